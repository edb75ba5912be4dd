// Package engines reads which Docker engines dockmap connects to besides
// the default one (--engine NAME=DOCKER_HOST, --context NAME) and keeps
// each engine's connection state in one place.
//
// Everything is validated before anything connects: a bad value stops the
// start with an error that names the engine, and nothing is changed.
package engines

import (
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"strings"
)

// Local is the name of the default engine (DOCKER_HOST, or the platform's
// socket).
const Local = "local"

// Spec is one engine to connect to.
type Spec struct {
	Name string
	// Host is the daemon address as given ("unix:///…", "tcp://…",
	// "ssh://…").
	Host string
	// Context is the docker CLI context it came from, if any.
	Context string
	// TLS is the client TLS material of a context's endpoint; nil for an
	// --engine, which takes DOCKER_TLS_VERIFY and DOCKER_CERT_PATH from
	// the environment as the docker CLI does.
	TLS *TLS
}

// TLS is where a context keeps its endpoint's TLS files. A file that the
// context does not have is "".
type TLS struct {
	CA, Cert, Key string
	SkipVerify    bool
}

// nameRE keeps names short and safe in IDs, URLs and CSS selectors, which
// the next steps (engine-carrying node IDs) will need.
var nameRE = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,30}$`)

// schemes are the daemon addresses the engine adapter can dial.
var schemes = map[string]bool{"unix": true, "tcp": true, "ssh": true}

// CheckName says why name cannot name an engine, or nil.
func CheckName(name string) error {
	if name == "" {
		return errors.New("empty engine name")
	}
	if !nameRE.MatchString(name) {
		return fmt.Errorf("engine name %q: want a lower-case letter or digit, then up to 30 of a-z, 0-9 and -", name)
	}
	return nil
}

// CheckHost says why host is not a daemon address dockmap can dial.
func CheckHost(host string) error {
	shown := Redact(host)
	scheme, rest, ok := strings.Cut(host, "://")
	if !ok || rest == "" {
		return fmt.Errorf("daemon address %q: want unix:///path, tcp://host:port or ssh://[user@]host", shown)
	}
	if !schemes[scheme] {
		return fmt.Errorf("daemon address %q: unknown scheme %s:// (want unix://, tcp:// or ssh://)", shown, scheme)
	}
	if scheme == "unix" {
		if !strings.HasPrefix(rest, "/") {
			return fmt.Errorf("daemon address %q: a unix socket needs an absolute path", shown)
		}
		return nil
	}
	u, err := url.Parse(host)
	if err != nil || u.Hostname() == "" {
		return fmt.Errorf("daemon address %q: no host name", shown)
	}
	return nil
}

// Redact is host without the user and password it may carry: it is shown
// to every viewer.
func Redact(host string) string {
	u, err := url.Parse(host)
	if err != nil || u.User == nil {
		return host
	}
	u.User = nil
	return u.String()
}

// Parse reads the --engine values ("NAME=DOCKER_HOST") and the --context
// values ("NAME", or "ENGINE=CONTEXT" to name the engine otherwise) into
// specs, in the order given. getenv finds the docker CLI's configuration
// directory (DOCKER_CONFIG, HOME). local is never among them: that name
// is taken by the default engine.
func Parse(engineFlags, contextFlags []string, getenv func(string) string) ([]Spec, error) {
	var specs []Spec
	seen := map[string]string{Local: "the default engine"}
	add := func(s Spec, what string) error {
		if prev, ok := seen[s.Name]; ok {
			return fmt.Errorf("%s: engine %q is %s already: give each engine its own name", what, s.Name, prev)
		}
		seen[s.Name] = what
		specs = append(specs, s)
		return nil
	}
	for _, v := range engineFlags {
		name, host, ok := strings.Cut(v, "=")
		// Errors name the value without the password it may carry.
		what := "--engine " + name + "=" + Redact(host)
		if !ok {
			what = "--engine " + Redact(v)
			return nil, fmt.Errorf("%s: want NAME=DOCKER_HOST, e.g. lab1=unix:///run/lab1.sock", what)
		}
		if err := CheckName(name); err != nil {
			return nil, fmt.Errorf("%s: %w", what, err)
		}
		if err := CheckHost(host); err != nil {
			return nil, fmt.Errorf("%s: engine %s: %w", what, name, err)
		}
		if err := add(Spec{Name: name, Host: host}, what); err != nil {
			return nil, err
		}
	}
	for _, v := range contextFlags {
		what := "--context " + v
		name, ctxName, ok := strings.Cut(v, "=")
		if !ok {
			ctxName = name
		}
		if ctxName == "" {
			return nil, fmt.Errorf("%s: want a context name, or ENGINE=CONTEXT", what)
		}
		if err := CheckName(name); err != nil {
			return nil, fmt.Errorf("%s: %w (name the engine with --context ENGINE=%s)", what, err, ctxName)
		}
		s, err := LoadContext(ctxName, getenv)
		if err != nil {
			return nil, fmt.Errorf("%s: engine %s: %w", what, name, err)
		}
		s.Name = name
		if err := add(s, what); err != nil {
			return nil, err
		}
	}
	return specs, nil
}
