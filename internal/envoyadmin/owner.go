package envoyadmin

import "errors"

// ErrOwnerUnknown means the platform cannot tell which process serves an address.
var ErrOwnerUnknown = errors.New("cannot tell which process serves the admin address on this platform")

// ServedBy reports whether the process pid holds the listening socket of t: whether the
// admin API that answers at t is that process's, rather than, say, a leftover Envoy's or
// another task's on a shared host network. It returns ErrOwnerUnknown (wrapped) when this
// cannot be determined (no /proc, no permission).
func (t Target) ServedBy(pid int) (bool, error) { return servedBy(t, pid) }
