package connlimit

// reserve is how many file descriptors DefaultTotal leaves for everything
// else the process opens: the engine's socket and its streams, probe
// helpers, the embedded files, logs.
const reserve = 256

// maxDefaultTotal is DefaultTotal when the file limit is generous: far
// more than a workshop needs (a room of 100 browsers holds about 700).
const maxDefaultTotal = 4096

// DefaultTotal is the default cap on all connections: 4096, or the
// process's limit on open files less a reserve when that is lower, so that
// a flood runs into the cap long before accept(2) runs out of descriptors.
// (Go raises the soft limit to the hard one when it starts.)
func DefaultTotal() int {
	return defaultTotal(fileLimit())
}

func defaultTotal(files int) int {
	if files <= 0 {
		return maxDefaultTotal
	}
	return max(16, min(maxDefaultTotal, files-reserve))
}

// FileLimit is the process's limit on open files, or 0 when unknown.
func FileLimit() int { return fileLimit() }
