//go:build !linux && !darwin

package platform

import "errors"

// uname is not implemented here: systemInfo is then simply absent.
func uname() (machine, release string, err error) {
	return "", "", errors.New("not supported on this platform")
}
