-- name: related_chunk_counts :many
-- How many chunks name each topic of a session in related_topic_ids, in topic order
-- (the GIN index on related_topic_ids finds them).
select t.title, count(c.id) as chunks
from study.topics t
left join study.document_chunks c
       on c.session_id = t.session_id and c.related_topic_ids @> array[t.id]
where t.session_id = :session_id
group by t.id, t.title, t.order_index
order by t.order_index;

-- name: chunks_naming_topic :val
-- How many chunks, in any session, still name a topic.
select count(*) from study.document_chunks where related_topic_ids @> array[:topic_id::uuid];
