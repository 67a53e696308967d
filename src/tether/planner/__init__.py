"""planner (seed 001): an AI study planner's subjects, day plans in generations, tasks, feedback."""

from tether.planner.errors import FeedbackTaken
from tether.planner.records import (
    Calendar,
    CalendarDay,
    CalendarTask,
    DayPlan,
    Feedback,
    Generation,
    NewTask,
    Subject,
    User,
)
from tether.planner.repositories import (
    FeedbackRepository,
    PlanRepository,
    SubjectRepository,
    UserRepository,
)

__all__ = [
    "Calendar",
    "CalendarDay",
    "CalendarTask",
    "DayPlan",
    "Feedback",
    "FeedbackRepository",
    "FeedbackTaken",
    "Generation",
    "NewTask",
    "PlanRepository",
    "Subject",
    "SubjectRepository",
    "User",
    "UserRepository",
]
