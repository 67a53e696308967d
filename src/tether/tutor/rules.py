"""The tutor's rules in plain words, by constraint name, for error messages."""

from tether.errors import Rule
from tether.tutor.errors import AlreadyEnded

RULES = {
    "users_email_key": "an account with this e-mail address already exists (case-insensitive)",
    "users_email_check": "the e-mail address must look like name@domain, at most 320 characters",
    "users_name_check": "a name must not be blank and has at most 255 characters",
    "users_role_check": "a role is student, professor or admin",
    "courses_professor_id_fkey": "the course's professor must exist",
    "courses_name_check": "a course's name must not be blank and has at most 255 characters",
    "courses_code_check": "a course's code must not be blank and has at most 64 characters",
    "courses_code_key": "a course with this code already exists",
    "weeks_course_id_fkey": "the week's course must exist",
    "weeks_number_check": "a week's number is 1 or more",
    "weeks_title_check": "a week's title has at most 255 characters",
    "uq_weeks_course_number": "this course already has a week with this number",
    "readings_week_id_fkey": "the reading's week must exist",
    "readings_filename_check": "a file name must not be blank and has at most 512 characters",
    "readings_file_path_check": "a file path must not be blank and has at most 1024 characters",
    "jobs_week_id_fkey": "the job's week must exist",
    "jobs_kind_check": "a job's kind must not be blank and has at most 255 characters",
    "jobs_status_check": "a job's status is pending, running, succeeded or failed",
    "jobs_progress_check": "a job's progress is between 0 and 100",
    "jobs_attempt_check": "a job's attempt number is 0 or more",
    "jobs_lease_check": "a running job holds a lease, and a job that is not running holds none",
    "chunks_reading_id_fkey": "the chunk's reading must exist",
    "chunks_idx_check": "a chunk's index is 0 or more",
    "chunks_reading_id_idx_key": "this reading already has a chunk with this index",
    "summaries_week_id_fkey": "the summary's week must exist",
    "summaries_created_by_id_fkey": "the summary's author must exist",
    "summaries_content_check": "a summary must not be blank",
    "conversations_user_id_fkey": "the conversation's user must exist",
    "conversations_week_id_fkey": "the conversation's week must exist",
    "conversations_session_id_check": (
        "a session id must not be blank and has at most 255 characters"
    ),
    "conversations_session_id_key": "a conversation with this session id already exists",
    "conversations_duration_seconds_check": (
        "a duration is 0 seconds or more: a conversation cannot end before it started"
    ),
    "conversations_ended_at_check": "a conversation cannot end before it started",
    "conversations_ended_check": "an end time and a duration are set together",
    "conversations_duration_agrees_check": (
        "the duration must be the whole seconds between the start and the end"
    ),
    "conversations_ended_once": Rule(
        "a conversation ends once: its end and duration cannot change", AlreadyEnded
    ),
    "audio_blobs_conversation_id_fkey": "the audio's conversation must exist",
    "audio_blobs_blob_data_check": "a piece of audio holds 1 byte to 16 MiB",
    "audio_blobs_duration_ms_check": "a duration is 0 ms or more",
    # The queue (tutor_0004_queue, tutor_0005_queue_indexes).
    "jobs_max_attempts_check": "a job's max attempts is between 1 and 1000",
    "jobs_backoff_check": "a job's backoff is 0 or more and its cap at least the backoff",
    "jobs_dedup_key_check": "a job's dedup key must not be blank and has at most 255 characters",
    "jobs_errors_check": "a job keeps the errors of at most its last 10 attempts, as a list",
    "jobs_cancel_reason_check": (
        "a cancellation's reason must not be blank and has at most 2000 characters"
    ),
    "jobs_dedup_key": (
        "a job of this kind with this dedup key is already pending or running (for this course)"
    ),
    # Tenancy (tutor_0003_tenancy_indexes): what the composite foreign keys point at.
    "weeks_id_course_id_key": "a week belongs to one course",
    "readings_id_course_id_key": "a reading belongs to one course",
    "conversations_id_course_id_key": "a conversation belongs to one course",
}
