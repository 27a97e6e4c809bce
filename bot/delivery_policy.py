"""What delivery is told (:class:`DeliveryPolicy`) and what it reports
(:class:`DeliveryReport`); ``bot.delivery`` re-exports both."""

from __future__ import annotations

from dataclasses import dataclass

from bot.schedule import exponential_backoff

__all__ = ["DeliveryPolicy", "DeliveryReport", "backoff_delay"]


@dataclass(frozen=True, slots=True)
class DeliveryPolicy:
    lease_seconds: float = 300.0  # a dead worker's items are taken again after this
    batch_limit: int = 500  # items leased per round
    max_attempts: int = 8
    backoff_base: float = 5.0
    backoff_cap: float = 3600.0
    concurrency: int = 8  # chats served at the same time
    # A sent message is recorded at most this many sends / seconds later (see SentRecorder).
    flush_items: int = 200
    flush_seconds: float = 0.1
    # Record each accepted send before the next send to the same chat (a group commit with
    # the other chats' records): a kill -9 then repeats at most the sends in flight, not the
    # last ``flush_seconds`` of them. Off only for the single-worker throughput benchmark.
    record_each: bool = True
    # Messages sent but maybe not yet recorded at any moment (0: no limit, the benchmark's
    # throughput setting). 1 bounds what a kill -9 repeats to the one send in flight.
    sends_in_flight: int = 0
    claim_chats: int = 64  # chats leased per round: the rest stay for the other workers


@dataclass
class DeliveryReport:
    sent: int = 0  # items (cards) sent
    messages: int = 0
    failed: int = 0
    retry: int = 0
    chats_gone: int = 0
    # Of ``failed``: items the platform refused or that ran out of attempts (not the ones
    # dropped because their chat is gone, which is the chat's doing, not a fault).
    errors: int = 0

    def add(self, other: DeliveryReport) -> None:
        self.sent += other.sent
        self.messages += other.messages
        self.failed += other.failed
        self.retry += other.retry
        self.chats_gone += other.chats_gone
        self.errors += other.errors

    def __str__(self) -> str:
        return (
            f"{self.sent} card(s) sent in {self.messages} message(s), {self.failed} failed, "
            f"{self.retry} to retry, {self.chats_gone} chat(s) gone"
        )


def backoff_delay(attempts: int, policy: DeliveryPolicy) -> float:
    """Seconds before try number ``attempts + 1``: base, 2x base, 4x base ... up to the cap."""
    return exponential_backoff(policy.backoff_base, attempts, policy.backoff_cap)
