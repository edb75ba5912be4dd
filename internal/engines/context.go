package engines

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// The docker CLI's context store, read the way the CLI lays it out (see
// docker/cli cli/context/store/doc.go and cli/context/docker/load.go):
//
//	$DOCKER_CONFIG (default ~/.docker)/contexts/
//	  meta/<sha256 of the name>/meta.json  {"Name", "Endpoints": {"docker": {"Host", "SkipTLSVerify"}}}
//	  tls/<sha256 of the name>/docker/{ca,cert,key}.pem
//
// The ID is a digest only so that any name makes a valid directory.

// contextMeta is the part of meta.json dockmap reads.
type contextMeta struct {
	Name      string
	Endpoints map[string]struct {
		Host          string
		SkipTLSVerify bool
	}
}

// ConfigDir is the docker CLI's configuration directory.
func ConfigDir(getenv func(string) string) string {
	if d := getenv("DOCKER_CONFIG"); d != "" {
		return d
	}
	home := getenv("HOME")
	if home == "" {
		home, _ = os.UserHomeDir()
	}
	return filepath.Join(home, ".docker")
}

// LoadContext reads the docker endpoint of the CLI context name. Its
// Name is left empty for the caller.
func LoadContext(name string, getenv func(string) string) (Spec, error) {
	if name == "default" {
		// The CLI's "default" context is DOCKER_HOST, stored nowhere:
		// dockmap's local engine is that one already.
		return Spec{}, errors.New(`context "default" is the local engine already`)
	}
	dir := filepath.Join(ConfigDir(getenv), "contexts")
	sum := sha256.Sum256([]byte(name))
	id := hex.EncodeToString(sum[:])
	metaFile := filepath.Join(dir, "meta", id, "meta.json")
	b, err := os.ReadFile(metaFile)
	if errors.Is(err, fs.ErrNotExist) {
		return Spec{}, fmt.Errorf("no docker context %q (docker context ls lists them; looked in %s)", name, dir)
	}
	if err != nil {
		return Spec{}, fmt.Errorf("context %q: %w", name, err)
	}
	var m contextMeta
	if err := json.Unmarshal(b, &m); err != nil {
		return Spec{}, fmt.Errorf("context %q: %s: %w", name, metaFile, err)
	}
	ep, ok := m.Endpoints["docker"]
	if !ok || ep.Host == "" {
		return Spec{}, fmt.Errorf("context %q has no docker endpoint (%s)", name, metaFile)
	}
	if err := CheckHost(ep.Host); err != nil {
		return Spec{}, fmt.Errorf("context %q: %w", name, err)
	}
	s := Spec{Host: ep.Host, Context: name}
	tlsDir := filepath.Join(dir, "tls", id, "docker")
	t := &TLS{SkipVerify: ep.SkipTLSVerify}
	for _, f := range []struct {
		file string
		to   *string
	}{{"ca.pem", &t.CA}, {"cert.pem", &t.Cert}, {"key.pem", &t.Key}} {
		p := filepath.Join(tlsDir, f.file)
		if _, err := os.Stat(p); err == nil {
			*f.to = p
		}
	}
	if (t.Cert == "") != (t.Key == "") {
		return Spec{}, fmt.Errorf("context %q: %s has a certificate without its key, or a key without its certificate", name, tlsDir)
	}
	if t.CA != "" || t.Cert != "" || t.SkipVerify {
		s.TLS = t
	}
	return s, nil
}
