//go:build linux || darwin

package platform

import "golang.org/x/sys/unix"

// uname returns the machine hardware name and the kernel release.
func uname() (machine, release string, err error) {
	var u unix.Utsname
	if err := unix.Uname(&u); err != nil {
		return "", "", err
	}
	return unix.ByteSliceToString(u.Machine[:]), unix.ByteSliceToString(u.Release[:]), nil
}
