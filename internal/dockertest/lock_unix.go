//go:build unix

package dockertest

import (
	"fmt"
	"os"
	"syscall"
)

// lockFile takes an exclusive lock on path, creating it if needed, and
// returns the function that releases it. Test binaries of several packages
// run at once and share one engine; the lock makes them import the fixture
// image one at a time.
func lockFile(path string) (unlock func(), err error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o666)
	if err != nil {
		return nil, fmt.Errorf("open lock: %w", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
		_ = f.Close()
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	return func() {
		_ = syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
		_ = f.Close()
	}, nil
}
