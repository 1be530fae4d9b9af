"""Reliability tests of issue #5: retries, unknown outcomes, limits, timeouts, secrets,
lifecycle, a fault-injection soak run and response fuzzing."""
