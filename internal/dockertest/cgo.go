package dockertest

import (
	"bytes"
	"debug/elf"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
)

// cgoBin is a dockmap built with cgo on, built once per test binary.
var cgoBin struct {
	once sync.Once
	path string
	err  error
}

// CgoDockmapBinary returns dockmap built as a plain `go build` gives it
// wherever a C compiler is installed: with cgo on, so dynamically linked
// (the net package then uses the C resolver). If the toolchain links it
// statically all the same, it is linked again with -linkmode=external,
// which always gives a dynamic binary; the test that needs it is about
// the dynamic case. Like DockmapBinary it carries this test binary's run
// ID, and Main removes its helper image.
func CgoDockmapBinary(t testing.TB) string {
	t.Helper()
	cgoBin.once.Do(func() { cgoBin.path, cgoBin.err = buildCgoDockmap() })
	if cgoBin.err != nil {
		t.Fatalf("dockmap built with cgo: %v", cgoBin.err)
	}
	return cgoBin.path
}

func buildCgoDockmap() (string, error) {
	dir, err := os.MkdirTemp("", "dockmap-test-cgo")
	if err != nil {
		return "", err
	}
	cgoBin.path = filepath.Join(dir, "dockmap") // for Main, even if the build fails
	for _, ldflags := range []string{"-X main.version=cgotest-" + runID, "-linkmode=external -X main.version=cgotest-" + runID} {
		if err := goBuild(cgoBin.path, "1", "-ldflags", ldflags); err != nil {
			return "", err
		}
		dynamic, err := IsDynamic(cgoBin.path)
		if err != nil || dynamic {
			return cgoBin.path, err
		}
	}
	return "", fmt.Errorf("dockmap built with cgo and -linkmode=external is still static")
}

// IsDynamic reports whether the ELF executable at path has an interpreter
// (PT_INTERP), i.e. is dynamically linked.
func IsDynamic(path string) (bool, error) {
	f, err := elf.Open(path)
	if err != nil {
		return false, err
	}
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			return true, nil
		}
	}
	return false, nil
}

// MissingLibraryBinary returns a copy of a dynamically linked executable
// of this host whose first needed library is renamed to one that exists
// nowhere (same length, so only bytes of the dynamic string table
// change), and that name: a binary the probe image cannot be made from.
func MissingLibraryBinary(t testing.TB) (path, missing string) {
	t.Helper()
	for _, src := range []string{"/bin/ls", "/usr/bin/ls", "/usr/bin/env", "/bin/sh"} {
		if ok, err := IsDynamic(src); err != nil || !ok {
			continue
		}
		f, err := elf.Open(src)
		if err != nil {
			continue
		}
		libs, err := f.ImportedLibraries()
		dynstr := f.Section(".dynstr")
		f.Close()
		if err != nil || len(libs) == 0 || dynstr == nil || len(libs[0]) < len("lib?") {
			continue
		}
		// libc.so.6 → libq.so.6, libselinux.so.1 → libqelinux.so.1
		missing = "libq" + libs[0][len("lib?"):]
		data, err := os.ReadFile(src)
		if err != nil {
			t.Fatal(err)
		}
		table := data[dynstr.Offset : dynstr.Offset+dynstr.Size]
		i := bytes.Index(table, append([]byte(libs[0]), 0))
		if i < 0 {
			continue
		}
		copy(table[i:], missing)
		path = filepath.Join(t.TempDir(), "dockmap")
		if err := os.WriteFile(path, data, 0o755); err != nil {
			t.Fatal(err)
		}
		return path, missing
	}
	t.Fatal("no dynamically linked executable among /bin/ls, /usr/bin/env, /bin/sh")
	return "", ""
}
