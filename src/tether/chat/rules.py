"""The chat domain's rules in plain words, by constraint name, for error messages."""

from tether.chat.errors import EmailTaken, MessageStatusConflict
from tether.errors import Rule

RULES = {
    "users_email_key": Rule(
        "an account with this e-mail address already exists (case-insensitive)", EmailTaken
    ),
    "users_email_check": "the e-mail address must look like name@domain, at most 256 characters",
    "users_hashed_password_check": (
        "a password hash is a PHC string ($argon2id$..., $scrypt$..., $pbkdf2-sha256$...) "
        "of at most 512 characters: store the hash the service computed "
        "(tether.passwords.hash_password), never the password"
    ),
    "users_oauth_identity_check": (
        "an OAuth identity is a provider (lowercase letters, digits, '.', '_', '-') and a "
        "subject of 1 to 255 characters, both or neither"
    ),
    "users_oauth_identity_key": "this OAuth identity (provider, subject) is another user's",
    "users_name_check": "a name has at most 256 characters",
    "users_role_check": "a user's role is user or admin",
    "users_refresh_tokens_check": (
        "refresh_tokens is an array of at most 20 live and 40 spent entries {hash, key_id, "
        "family, family_issued_at, issued_at, expires_at, spent_at, replaced_by, retried}: "
        "64-hex-digit hashes, never a raw token, expiring after they were issued"
    ),
    "conversations_user_id_fkey": "the conversation's user must exist",
    "conversations_id_user_id_key": (
        "a conversation and its user are one pair (what a message's conversation refers to)"
    ),
    "conversations_title_check": "a conversation's title has at most 512 characters",
    "conversations_messages_count_check": "a conversation's messages_count is never negative",
    "conversations_last_message_at_check": (
        "last_message_at is set exactly when the conversation has messages"
    ),
    "conversations_counters_kept": (
        "messages_count and last_message_at are kept by the database: a conversation "
        "starts at zero and only its messages move them"
    ),
    "messages_conversation_id_fkey": "the message's conversation must exist, and be its user's",
    "messages_sender_check": "a message's sender is user or assistant",
    "messages_status_check": "a message's status is sending, streaming, sent or failed",
    "messages_metadata_check": "a message's metadata is a JSON object",
    "messages_placement_fixed": "a message cannot move to another conversation or time",
    "messages_status_transition_check": Rule(
        "a message's status only moves forward (sending, streaming, then sent or failed), "
        "and sent and failed are final",
        MessageStatusConflict,
    ),
}
