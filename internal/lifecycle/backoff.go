package lifecycle

import "time"

// Backoff is exponential back-off: Min, doubling with every further wait, capped at Max.
// The three waiting loops of the agent use it with their own bounds: restarts of a failed
// part (RestartMin, RestartMax), Envoy restarts (supervise.Options.BackoffInitial,
// BackoffMax) and retries of an Envoy admin call (envoyadmin.Client.BackoffMin, BackoffMax).
type Backoff struct {
	Min, Max time.Duration
}

// Delay is the n-th wait (0-based) since the last reset: Min·2ⁿ, at most Max. A zero Min
// never waits.
func (b Backoff) Delay(n int) time.Duration {
	d := b.Min
	for i := 0; i < n && d < b.Max; i++ {
		d *= 2
	}
	return min(d, b.Max)
}
