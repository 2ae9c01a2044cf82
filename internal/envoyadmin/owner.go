package envoyadmin

import "errors"

// ErrOwnerUnknown means the platform cannot tell which process serves an address.
var ErrOwnerUnknown = errors.New("cannot tell which process serves the admin address on this platform")

// HolderIn returns the process, among pid and its descendants, that holds the listening
// socket of t: pid itself for an Envoy the agent started directly, a descendant when
// APPNET_ENVOY_PATH is a wrapper that starts Envoy as its child; 0 when none does (a
// leftover Envoy, or another task on a shared host network, answers at t). It returns
// ErrOwnerUnknown (wrapped) when this cannot be determined (no /proc, no permission).
func (t Target) HolderIn(pid int) (int, error) { return holderIn(t, pid) }
