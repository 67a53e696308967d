-- name: append_audio :one
-- One more piece of a conversation's audio; what is returned leaves the bytes out.
insert into tutor.audio_blobs (conversation_id, blob_data, recorded_at, duration_ms)
values (:conversation_id, :blob_data, coalesce(:recorded_at::timestamptz, now()), :duration_ms)
returning id, conversation_id, recorded_at, duration_ms, octet_length(blob_data) as size;

-- name: audio_of_conversation :many
-- A conversation's audio pieces in order, without their bytes.
select id, conversation_id, recorded_at, duration_ms, octet_length(blob_data) as size
from tutor.audio_blobs
where conversation_id = :conversation_id
order by id;

-- name: stream_audio :many
-- A conversation's audio with its bytes, in the order it was appended; read through a
-- server-side cursor (audio_blobs_conversation_id_id_idx serves the order).
select id, conversation_id, blob_data, recorded_at, duration_ms
from tutor.audio_blobs
where conversation_id = :conversation_id
order by id;
