package probe

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"strings"
)

// Where a container's resolver configuration lives; in a helper that
// shares a container's network namespace (`--network container:<id>`),
// these are the container's own files.
const (
	HostsPath  = "/etc/hosts"
	ResolvPath = "/etc/resolv.conf"
	// EmbeddedDNS is the address of Docker's embedded DNS server, the only
	// server that answers container names and aliases. The engine puts it
	// in the resolv.conf of containers on user-defined networks, and never
	// on the default bridge (or host, or none).
	EmbeddedDNS = "127.0.0.11"
)

// NoContainerDNS is in the detail of a name probe that failed without a
// lookup because nothing in the source can resolve a container name.
const NoContainerDNS = "no container DNS"

// Names is what a namespace's resolver configuration says about container
// names: a container name or alias resolves only through /etc/hosts (the
// entries legacy links and --add-host write) or through Docker's embedded
// DNS. Any other server (the host's, or --dns) does not know containers,
// and asking it costs a round trip per probe, or a whole timeout when it
// is unreachable or drops a burst of queries: a matrix on the default
// bridge asks it hundreds of names at once.
type Names struct {
	hosts    map[string]bool // names in /etc/hosts, lower case
	embedded bool            // resolv.conf asks EmbeddedDNS
	servers  []string        // the nameservers resolv.conf names
}

// ReadNames reads a hosts file and a resolv.conf. A file it cannot read
// is an error, and then the caller should look names up as usual.
func ReadNames(hostsPath, resolvPath string) (*Names, error) {
	n := &Names{hosts: make(map[string]bool)}
	if err := readLines(hostsPath, func(f []string) {
		for _, h := range f[1:] {
			n.hosts[strings.ToLower(strings.TrimSuffix(h, "."))] = true
		}
	}); err != nil {
		return nil, err
	}
	if err := readLines(resolvPath, func(f []string) {
		if f[0] == "nameserver" && len(f) > 1 {
			n.servers = append(n.servers, f[1])
			n.embedded = n.embedded || f[1] == EmbeddedDNS
		}
	}); err != nil {
		return nil, err
	}
	return n, nil
}

// readLines calls fn with the fields of every line of path that has any,
// comments removed.
func readLines(path string, fn func(fields []string)) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	r := bufio.NewReader(f)
	for {
		line, err := r.ReadString('\n')
		if i := strings.IndexAny(line, "#;"); i >= 0 {
			line = line[:i]
		}
		if fields := strings.Fields(line); len(fields) > 0 {
			fn(fields)
		}
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return fmt.Errorf("read %s: %w", path, err)
		}
	}
}

// Unresolvable returns why the container name or alias name cannot
// resolve here, or "" when it may: it is in the hosts file, or the
// resolver asks Docker's embedded DNS. Only for names that are a
// container's: a real host name may well be answered by other servers.
func (n *Names) Unresolvable(name string) string {
	if n.embedded || n.hosts[strings.ToLower(strings.TrimSuffix(name, "."))] {
		return ""
	}
	servers := "no nameserver"
	if len(n.servers) > 0 {
		servers = strings.Join(n.servers, ", ")
	}
	return fmt.Sprintf("%s does not resolve: it is not in /etc/hosts (no link by that name) and there is %s here (resolv.conf asks %s, not Docker's embedded DNS at %s, which only user-defined networks have)",
		name, NoContainerDNS, servers, EmbeddedDNS)
}
