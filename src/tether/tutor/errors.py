"""The tutor's own errors, each a kind of tether error a caller may already handle."""

from __future__ import annotations

from collections.abc import Sequence

from tether.errors import Conflict


class AlreadyEnded(Conflict):
    """The conversation has ended already: its end and duration are fixed."""


class LeaseLost(Conflict):
    """A worker wrote to a job its claim no longer holds: the lease lapsed and another
    worker claimed the job again, or the job already finished. Nothing was written.

    `job_ids` are the jobs refused (of a batch, the others were recorded).
    """

    def __init__(self, job_ids: Sequence[int], what: str) -> None:
        ids = ", ".join(map(str, job_ids))
        super().__init__(
            f"tutor.jobs: {what} refused for job(s) {ids}: this worker's claim no longer "
            "holds (its lease lapsed and another worker claimed the job, or it finished)",
            table="tutor.jobs",
        )
        self.job_ids = tuple(job_ids)


class JobCancelled(LeaseLost):
    """The job was cancelled while this worker ran it: its success is refused (the job
    is failed, with the cancellation's reason), and so is its progress. A kind of
    LeaseLost: the claim no longer lets the worker finish the job."""

    def __init__(self, job_ids: Sequence[int]) -> None:
        ids = ", ".join(map(str, job_ids))
        Conflict.__init__(
            self,
            f"tutor.jobs: job(s) {ids} were cancelled: they cannot succeed, they end failed "
            "with the cancellation's reason",
            table="tutor.jobs",
        )
        self.job_ids = tuple(job_ids)
