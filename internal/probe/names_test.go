package probe_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/dockmap/dockmap/internal/probe"
)

// writeNames writes a hosts file and a resolv.conf and reads them back.
func writeNames(t *testing.T, hosts, resolv string) *probe.Names {
	t.Helper()
	dir := t.TempDir()
	hp, rp := filepath.Join(dir, "hosts"), filepath.Join(dir, "resolv.conf")
	if err := os.WriteFile(hp, []byte(hosts), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(rp, []byte(resolv), 0o644); err != nil {
		t.Fatal(err)
	}
	n, err := probe.ReadNames(hp, rp)
	if err != nil {
		t.Fatalf("ReadNames: %v", err)
	}
	return n
}

// The files as the engine writes them: a container on the default bridge
// with a legacy link (`--link database`), and one on a user network.
const (
	bridgeHosts = `127.0.0.1	localhost
::1	localhost ip6-localhost ip6-loopback
172.17.0.3	database 0123456789ab db-1 # a link
172.17.0.4	4f1c2d3e5a6b
`
	bridgeResolv = "# from the host\nnameserver 10.255.255.53\nsearch example.org\n"
	userResolv   = "search example.org\nnameserver 127.0.0.11\noptions ndots:0\n"
)

// TestNamesUnresolvable: on the default bridge, only /etc/hosts names
// resolve; with Docker's embedded DNS every name is left to the lookup.
func TestNamesUnresolvable(t *testing.T) {
	t.Parallel()
	bridge := writeNames(t, bridgeHosts, bridgeResolv)
	user := writeNames(t, bridgeHosts, userResolv)
	tests := []struct {
		names *probe.Names
		name  string
		fails bool
	}{
		{bridge, "database", false},  // the link's alias
		{bridge, "db-1", false},      // the link's target's own name
		{bridge, "DATABASE.", false}, // names are case-blind, a final dot changes nothing
		{bridge, "localhost", false},
		{bridge, "web", true},
		{bridge, "a", true}, // not the comment's words
		{user, "web", false},
		{user, "database", false},
	}
	for _, tt := range tests {
		why := tt.names.Unresolvable(tt.name)
		if (why != "") != tt.fails {
			t.Errorf("Unresolvable(%q) = %q, want failing %v", tt.name, why, tt.fails)
		}
		if tt.fails && (!strings.Contains(why, probe.NoContainerDNS) || !strings.Contains(why, "10.255.255.53") || !strings.Contains(why, tt.name)) {
			t.Errorf("Unresolvable(%q) = %q, want the name, %q and the server asked", tt.name, why, probe.NoContainerDNS)
		}
	}
	if _, err := probe.ReadNames(filepath.Join(t.TempDir(), "none"), "/etc/resolv.conf"); err == nil {
		t.Error("ReadNames of a missing hosts file: no error, want one (then names are looked up as usual)")
	}
}

// TestLocalNoContainerDNS: a container name that nothing here can resolve
// fails at once with the reason, without asking any server (the resolv.conf
// names one that does not exist); one in the hosts file is looked up.
func TestLocalNoContainerDNS(t *testing.T) {
	t.Parallel()
	n := writeNames(t, "127.0.0.1 localhost\n", "nameserver 192.0.2.1\n")
	l := probe.Local(t.Context(), "web", 0, 30*time.Second, n)
	if l.OK || l.Failure != probe.FailName || !strings.Contains(l.Detail, probe.NoContainerDNS) {
		t.Errorf("Local(web) = %+v, want %s with %q", l, probe.FailName, probe.NoContainerDNS)
	}
	if l := probe.Local(t.Context(), "localhost", 0, 5*time.Second, n); !l.OK || l.Resolved != "127.0.0.1" {
		t.Errorf("Local(localhost) = %+v, want a reply from 127.0.0.1 (the real /etc/hosts)", l)
	}
}
