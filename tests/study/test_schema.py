"""The study schema as the catalog sees it: the four enum types, vector(768), every FK
and its ON DELETE rule, the indexes (HNSW with cosine, GIN, the ones covering the
FKs), the unique and check rules, and the triggers with a pinned search_path."""

from domain_checks import foreign_keys
from tether.study import EMBEDDING_DIMENSIONS


async def test_the_four_enum_types_and_their_labels(tether_db):
    rows = await tether_db.pool.fetch(
        """
        select t.typname, array_agg(e.enumlabel order by e.enumsortorder) as labels
        from pg_type t join pg_enum e on e.enumtypid = t.oid
        where t.typnamespace = 'study'::regnamespace
        group by t.typname
        """
    )
    assert {r["typname"]: r["labels"] for r in rows} == {
        "session_status": [
            "UPLOADING",
            "GENERATING_PLAN",
            "EDITING_PLAN",
            "CHUNKING",
            "ACTIVE",
            "COMPLETED",
        ],
        "processing_status": ["PENDING", "PROCESSING", "COMPLETED", "FAILED"],
        "chat_type": ["GENERAL", "TOPIC"],
        "chunk_type": ["PARENT", "CHILD"],
    }


async def test_columns_and_their_types(tether_db):
    rows = await tether_db.pool.fetch(
        """
        select c.relname as table_name, a.attname as column_name,
               format_type(a.atttypid, a.atttypmod) as type, a.attnotnull as not_null,
               pg_get_expr(d.adbin, d.adrelid) as default, a.attgenerated::text
        from pg_attribute a
        join pg_class c on c.oid = a.attrelid
        left join pg_attrdef d on d.adrelid = a.attrelid and d.adnum = a.attnum
        where c.relnamespace = 'study'::regnamespace and c.relkind = 'r'
          and a.attnum > 0 and not a.attisdropped
        """
    )
    columns = {(r["table_name"], r["column_name"]): r for r in rows}
    tables = {table for table, _ in columns}
    assert tables == {
        "profiles",
        "study_sessions",
        "documents",
        "topics",
        "chats",
        "messages",
        "document_chunks",
    }
    for table in tables:
        key = columns[(table, "id")]
        assert (key["type"], key["default"]) == ("uuid", "gen_random_uuid()")
        created = columns[(table, "created_at")]
        assert (created["type"], created["default"], created["not_null"]) == (
            "timestamp with time zone",
            "now()",
            True,
        )
    for table in ("study_sessions", "topics", "chats"):
        assert columns[(table, "updated_at")]["default"] == "now()"
    embedding = columns[("document_chunks", "embedding")]
    assert embedding["type"] == f"vector({EMBEDDING_DIMENSIONS})" == "vector(768)"
    assert not embedding["not_null"]
    assert columns[("document_chunks", "related_topic_ids")]["type"] == "uuid[]"
    assert columns[("topics", "subtopics")]["type"] == "text[]"
    assert columns[("study_sessions", "status")]["type"] == "study.session_status"
    assert columns[("study_sessions", "status")]["default"] == "'UPLOADING'::study.session_status"
    assert columns[("study_sessions", "draft_plan")]["type"] == "jsonb"
    assert columns[("documents", "processing_status")]["default"] == (
        "'PENDING'::study.processing_status"
    )
    assert columns[("chats", "type")]["type"] == "study.chat_type"
    assert columns[("document_chunks", "type")]["type"] == "study.chunk_type"
    length = columns[("documents", "content_length")]
    assert (length["attgenerated"], length["default"]) == (
        "s",
        "COALESCE(length(content_text), 0)",
    )
    # Not in the seed: the order of a chat's messages, an identity (see docs/study.md).
    assert columns[("messages", "seq")]["type"] == "bigint"


async def test_foreign_keys_and_their_on_delete_rules(tether_db):
    found = await foreign_keys(tether_db, "study")
    sessions = "study.study_sessions"
    assert found == {
        "study_sessions_profile_id_fkey": (sessions, ("profile_id",), "study.profiles", "cascade"),
        "documents_session_id_fkey": (
            "study.documents",
            ("session_id", "profile_id"),
            sessions,
            "cascade",
        ),
        "topics_session_id_fkey": (
            "study.topics",
            ("session_id", "profile_id"),
            sessions,
            "cascade",
        ),
        "chats_session_id_fkey": (
            "study.chats",
            ("session_id", "profile_id"),
            sessions,
            "cascade",
        ),
        # The topic of a chat is in the chat's session: a composite key.
        "chats_topic_id_fkey": (
            "study.chats",
            ("session_id", "topic_id", "profile_id"),
            "study.topics",
            "cascade",
        ),
        "messages_chat_id_fkey": (
            "study.messages",
            ("chat_id", "profile_id"),
            "study.chats",
            "cascade",
        ),
        "document_chunks_session_id_fkey": (
            "study.document_chunks",
            ("session_id", "profile_id"),
            sessions,
            "cascade",
        ),
        # The document of a chunk is in the chunk's session: a composite key.
        "document_chunks_document_id_fkey": (
            "study.document_chunks",
            ("session_id", "document_id", "profile_id"),
            "study.documents",
            "cascade",
        ),
        "document_chunks_parent_chunk_id_fkey": (
            "study.document_chunks",
            ("parent_chunk_id", "profile_id"),
            "study.document_chunks",
            "cascade",
        ),
    }


async def test_index_methods_and_operator_classes(tether_db):
    rows = await tether_db.pool.fetch(
        """
        select ic.relname as index, am.amname as method,
               array(select opc.opcname from unnest(i.indclass::oid[]) o
                     join pg_opclass opc on opc.oid = o) as opclasses,
               pg_get_indexdef(i.indexrelid) as definition
        from pg_index i
        join pg_class ic on ic.oid = i.indexrelid
        join pg_am am on am.oid = ic.relam
        where ic.relnamespace = 'study'::regnamespace and not i.indisprimary
        """
    )
    found = {r["index"]: (r["method"], r["opclasses"]) for r in rows}
    assert found["document_chunks_embedding_idx"] == ("hnsw", ["vector_cosine_ops"])
    assert found["document_chunks_related_topic_ids_idx"] == ("gin", ["array_ops"])
    btree = {name for name, (method, _) in found.items() if method == "btree"}
    assert btree == {
        "profiles_email_key",
        "study_sessions_profile_id_created_at_id_idx",
        "documents_session_id_id_key",
        "topics_session_id_order_index_key",
        "topics_session_id_id_key",
        "chats_session_id_topic_id_key",
        "messages_chat_id_seq_idx",
        # Tenancy (study_0003_tenancy_indexes): the keys the composite foreign keys
        # point at, and the indexes behind those keys.
        "study_sessions_id_profile_id_key",
        "documents_session_id_profile_id_id_key",
        "topics_session_id_profile_id_id_key",
        "chats_id_profile_id_key",
        "document_chunks_id_profile_id_key",
        "chats_session_id_profile_id_topic_id_idx",
        "messages_chat_id_profile_id_idx",
        "document_chunks_session_id_profile_id_document_id_idx",
        "document_chunks_parent_chunk_id_profile_id_idx",
    }
    definitions = {r["index"]: r["definition"] for r in rows}
    assert "lower(email)" in definitions["profiles_email_key"]
    assert definitions["chats_session_id_topic_id_key"].endswith(
        "(session_id, topic_id) NULLS NOT DISTINCT"
    )


async def test_the_order_of_topics_is_unique_and_deferrable(tether_db):
    row = await tether_db.pool.fetchrow(
        "select contype::text, condeferrable, condeferred, pg_get_constraintdef(oid) as definition "
        "from pg_constraint where conname = 'topics_session_id_order_index_key'"
    )
    assert (row["contype"], row["condeferrable"], row["condeferred"]) == ("u", True, False)
    assert row["definition"] == "UNIQUE (session_id, order_index) DEFERRABLE"


async def test_check_rules_exist_by_name(tether_db):
    names = {
        r["conname"]
        for r in await tether_db.pool.fetch(
            "select conname from pg_constraint "
            "where contype = 'c' and connamespace = 'study'::regnamespace"
        )
    }
    assert names == {
        "profiles_email_check",
        "profiles_password_hash_check",
        "study_sessions_title_check",
        "study_sessions_description_check",
        "study_sessions_draft_plan_check",
        "documents_file_name_check",
        "documents_file_path_check",
        "documents_file_description_check",
        "topics_title_check",
        "topics_subtopics_check",
        "topics_subtopics_no_null_check",
        "topics_order_index_check",
        "chats_type_check",
        "messages_role_check",
        "document_chunks_chunk_text_check",
        "document_chunks_embedding_check",
        "document_chunks_type_check",
        "document_chunks_related_topic_ids_check",
    }


async def test_triggers_and_their_pinned_search_path(tether_db):
    triggers = await tether_db.pool.fetch(
        """
        select t.tgname, t.tgrelid::regclass::text as tbl, p.proconfig
        from pg_trigger t join pg_proc p on p.oid = t.tgfoid
        where not t.tgisinternal and p.pronamespace = 'study'::regnamespace
        """
    )
    assert {r["tgname"]: r["tbl"] for r in triggers} == {
        "study_sessions_touch_updated_at": "study.study_sessions",
        "topics_touch_updated_at": "study.topics",
        "chats_touch_updated_at": "study.chats",
        "study_sessions_status_move_check": "study.study_sessions",
        "documents_session_fixed": "study.documents",
        "topics_session_fixed": "study.topics",
        "chats_session_fixed": "study.chats",
        "document_chunks_place_fixed": "study.document_chunks",
        "document_chunks_parent_check": "study.document_chunks",
        "document_chunks_related_topics_fkey": "study.document_chunks",
        "topics_forget_deleted": "study.topics",
        # Tenancy: an insert that leaves profile_id out gets its parent's.
        "documents_tenant": "study.documents",
        "topics_tenant": "study.topics",
        "chats_tenant": "study.chats",
        "messages_tenant": "study.messages",
        "document_chunks_tenant": "study.document_chunks",
    }
    assert all(r["proconfig"] == ["search_path=pg_catalog, pg_temp"] for r in triggers)
    functions = await tether_db.pool.fetch(
        "select proname, proconfig from pg_proc where pronamespace = 'study'::regnamespace"
    )
    assert all("search_path=pg_catalog, pg_temp" in r["proconfig"] for r in functions)
    settings = {r["proname"]: r["proconfig"] for r in functions}
    assert set(settings["approximate_neighbours"]) == {
        "search_path=pg_catalog, pg_temp",
        "hnsw.iterative_scan=relaxed_order",
        "hnsw.ef_search=100",
        "enable_sort=off",
    }
