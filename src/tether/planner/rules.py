"""The planner's rules in plain words, by constraint name, for error messages."""

from tether.errors import Rule
from tether.planner.errors import FeedbackTaken

RULES = {
    "users_email_key": "an account with this e-mail address already exists (case-insensitive)",
    "users_email_check": "the e-mail address must look like name@domain, at most 320 characters",
    "users_name_check": "a name has at most 255 characters",
    "subjects_student_id_fkey": "the subject's student must exist",
    "subjects_student_id_name_key": "this student already has a subject with this name",
    "subjects_name_check": "a subject's name must not be blank and has at most 255 characters",
    "subjects_owner_fixed": "the student of a subject cannot change",
    "subjects_id_student_id_key": (
        "a subject and its student are one pair (what a task's subject refers to)"
    ),
    "plans_user_id_fkey": "the plan's user must exist",
    "plans_user_id_generation_id_date_key": "a generation has at most one plan per day",
    "plans_owner_fixed": "the user of a plan cannot change",
    "plans_id_user_id_key": "a plan and its user are one pair (what a task's plan refers to)",
    "ai_tasks_plan_id_fkey": "the task's plan must exist, and be its user's",
    "ai_tasks_subject_id_fkey": "the task's subject must exist and belong to the user of its plan",
    "ai_tasks_ai_task_name_check": "a task's name must not be blank and has at most 255 characters",
    "ai_tasks_difficulty_check": "a task's difficulty is between 1 and 5",
    "ai_tasks_priority_check": "a task's priority is between 1 and 10",
    "feedback_user_id_fkey": "the feedback's user must exist",
    "feedback_content_check": "feedback must not be blank",
    "uc_user_generation_feedback": Rule(
        "this user has already given feedback on this generation", FeedbackTaken
    ),
}
