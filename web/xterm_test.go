package web_test

import (
	"bytes"
	"io/fs"
	"testing"

	"github.com/dockmap/dockmap/web"
)

// TestXtermBundleIsCurrent checks that the terminal's script is what
// "go generate ./web" makes from the vendored xterm files: nobody edited
// it, and nobody changed those files without making it again.
func TestXtermBundleIsCurrent(t *testing.T) {
	static, err := fs.Sub(web.Static, "static")
	if err != nil {
		t.Fatal(err)
	}
	want, err := web.XtermBundleOf(static)
	if err != nil {
		t.Fatal(err)
	}
	got, err := fs.ReadFile(static, web.XtermBundle)
	if err != nil {
		t.Fatalf("%s: %v (run go generate ./web)", web.XtermBundle, err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s is not what go generate ./web makes from %s: run it", web.XtermBundle, web.XtermDir)
	}
	for _, name := range []string{"lib/public/Terminal.js", "addons/fit/fit.js", "xterm.css"} {
		if _, err := fs.Stat(static, web.XtermDir+"/"+name); err != nil {
			t.Errorf("vendored xterm file %s: %v", name, err)
		}
	}
}
