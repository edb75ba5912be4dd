// Package templates holds dockmap's templ components and the view structs
// they render: the topology page, the container panel fragment and the error
// pages. Components are presentational: they take view structs, do no I/O,
// and every Docker-provided string goes through templ's escaping.
//
// The *_templ.go files are generated and committed; regenerate them after
// editing a .templ file with "go generate ./web/templates".
package templates

//go:generate go tool templ generate
