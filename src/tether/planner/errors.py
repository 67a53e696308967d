"""The planner's own errors, for the rules a service handles on their own."""

from tether.errors import Conflict


class FeedbackTaken(Conflict):
    """The user has already given feedback on this generation (one per generation:
    a second submission, even a concurrent one, is refused: 409)."""
