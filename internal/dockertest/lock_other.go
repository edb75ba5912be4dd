//go:build !unix

package dockertest

// lockFile does nothing where flock is missing: two test binaries may then
// both import the fixture image, which only leaves an untagged copy behind.
func lockFile(string) (unlock func(), err error) { return func() {}, nil }
