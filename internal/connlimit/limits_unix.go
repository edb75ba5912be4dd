//go:build unix

package connlimit

import "syscall"

// fileLimit is the process's limit on open files (RLIMIT_NOFILE, soft),
// or 0 when it cannot be read.
func fileLimit() int {
	var rl syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &rl); err != nil || rl.Cur > 1<<30 {
		return 0
	}
	return int(rl.Cur)
}
