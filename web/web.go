// Package web holds dockmap's browser side: the templ components live in
// web/templates, and the files served under /static/ (ES modules, CSS and the
// vendored libraries) are embedded here so the binary needs nothing on disk.
package web

import "embed"

// Static holds the directory static/: app.js and the other ES modules,
// style.css, and vendor/ (Cytoscape and fcose, with their licences). Its
// paths start with "static/"; serve fs.Sub(Static, "static") under /static/.
//
//go:embed static
var Static embed.FS
