"""A fake clock: epoch seconds that move only when told, shared by an emulator and a client so that
rate-limit windows and token expiry can be jumped over instead of waited for."""

from __future__ import annotations


class FakeClock:
    """Call it for the time (epoch seconds, a float); ``now`` may also be set or added to directly."""

    def __init__(self, start: float) -> None:
        self.now = float(start)

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds

    def jump_to(self, epoch: float) -> None:
        """Forward to ``epoch``; a clock never goes back."""
        if epoch <= self.now:
            raise ValueError(f"the clock is at {self.now}; it cannot jump back to {epoch}")
        self.now = float(epoch)

    def jump_to_next_window(self, window_s: int) -> None:
        """One second into the next window of ``window_s`` seconds since the epoch (as Strava's
        rate-limit windows start at :00, :15, :30 and :45)."""
        self.jump_to((int(self.now // window_s) + 1) * window_s + 1)
