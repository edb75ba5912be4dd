package dockertest

import "testing"

// FixtureTarForTest exposes the fixture's root filesystem tar to the
// external tests.
func FixtureTarForTest(t testing.TB) []byte {
	t.Helper()
	b, err := fixtureTar()
	if err != nil {
		t.Fatalf("fixtureTar: %v", err)
	}
	return b
}
