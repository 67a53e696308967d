"""The study domain's rules in plain words, by constraint name, for error messages."""

from tether.errors import Rule
from tether.study.errors import StatusMoveRefused

RULES = {
    "profiles_email_key": "a profile with this e-mail address already exists (case-insensitive)",
    "profiles_email_check": "the e-mail address must look like name@domain, at most 320 characters",
    "profiles_password_hash_check": (
        "password_hash takes a PHC-format password hash ($argon2id$..., $scrypt$..., "
        "$pbkdf2-sha256$..., at most 512 characters; tether.passwords.hash_password), "
        "never a password"
    ),
    "study_sessions_profile_id_fkey": "the session's profile must exist",
    "study_sessions_title_check": (
        "a session's title must not be blank and has at most 255 characters"
    ),
    "study_sessions_description_check": "a session's description has at most 5000 characters",
    "study_sessions_draft_plan_check": (
        'a draft plan is {"topics": [{"title": "...", "subtopics": ["...", ...]}, ...]} '
        "(subtopics may be left out)"
    ),
    "study_sessions_status_move_check": Rule(
        "a session's status moves only UPLOADING -> GENERATING_PLAN -> EDITING_PLAN -> "
        "CHUNKING -> ACTIVE -> COMPLETED, EDITING_PLAN -> GENERATING_PLAN (regenerate) and "
        "COMPLETED -> ACTIVE (reopen)",
        StatusMoveRefused,
    ),
    "documents_session_id_fkey": "the document's session must exist",
    "documents_session_id_id_key": "a document with this id already exists",
    "documents_file_name_check": "a file name must not be blank and has at most 255 characters",
    "documents_file_path_check": "a file path must not be blank and has at most 1024 characters",
    "documents_file_description_check": "a file description has at most 5000 characters",
    "documents_session_fixed": "the session of a document cannot change",
    "topics_session_id_fkey": "the topic's session must exist",
    "topics_title_check": "a topic's title must not be blank and has at most 255 characters",
    "topics_subtopics_check": "subtopics is a list of texts (one dimension)",
    "topics_subtopics_no_null_check": "a subtopic cannot be NULL",
    "topics_order_index_check": "a topic's order_index is 0 or more",
    "topics_session_id_order_index_key": (
        "two topics of a session cannot have the same order_index (topics are made from a "
        "draft plan once; reorder them with reorder)"
    ),
    "topics_session_id_id_key": "a topic with this id already exists",
    "topics_session_fixed": "the session of a topic cannot change",
    "topics_delete_isolation_check": (
        "a topic is deleted under READ COMMITTED or SERIALIZABLE isolation, so that chunks "
        "written meanwhile lose its id too"
    ),
    "chats_session_id_fkey": "the chat's session must exist",
    "chats_topic_id_fkey": "the topic of a chat must exist and belong to the chat's session",
    "chats_type_check": "a TOPIC chat has a topic and a GENERAL chat has none",
    "chats_session_id_topic_id_key": ("a session has one general chat, and a topic one chat"),
    "chats_session_fixed": "the session of a chat cannot change",
    "messages_chat_id_fkey": "the message's chat must exist",
    "messages_role_check": "a message's role is user, assistant or system",
    "document_chunks_session_id_fkey": "the chunk's session must exist",
    "document_chunks_document_id_fkey": (
        "the chunk's document must exist and belong to the chunk's session"
    ),
    "document_chunks_parent_chunk_id_fkey": "the chunk's parent must exist",
    "document_chunks_parent_check": (
        "a CHILD chunk's parent must be a PARENT chunk of the same document"
    ),
    "document_chunks_type_check": "a PARENT chunk has no parent and a CHILD chunk has one",
    "document_chunks_chunk_text_check": "a chunk's text must not be blank",
    "document_chunks_embedding_check": "an embedding must not be the zero vector",
    "document_chunks_related_topic_ids_check": (
        "related_topic_ids is a list of topic ids (one dimension, no NULL)"
    ),
    "document_chunks_related_topics_fkey": (
        "every related topic of a chunk must be a topic of the chunk's session"
    ),
    "document_chunks_place_fixed": (
        "the document, session, parent and type of a chunk cannot change"
    ),
    # Tenancy (study_0003_tenancy_indexes): what the composite foreign keys point at.
    "study_sessions_id_profile_id_key": "a study session belongs to one profile",
    "documents_session_id_profile_id_id_key": "a document belongs to one session and profile",
    "topics_session_id_profile_id_id_key": "a topic belongs to one session and profile",
    "chats_id_profile_id_key": "a chat belongs to one profile",
    "document_chunks_id_profile_id_key": "a chunk belongs to one profile",
}
