// Command xtermbundle writes web/static/xterm/xterm-3.8.1.bundle.js from
// the vendored xterm.js files (web.XtermBundleOf). Run it through
// "go generate ./web".
package main

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/dockmap/dockmap/web"
)

func main() {
	out, err := web.XtermBundleOf(os.DirFS("static"))
	if err == nil {
		dst := filepath.Join("static", filepath.FromSlash(web.XtermBundle))
		if err = os.MkdirAll(filepath.Dir(dst), 0o755); err == nil {
			err = os.WriteFile(dst, out, 0o644)
		}
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "xtermbundle:", err)
		os.Exit(1)
	}
}
