package reach_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/dockmap/dockmap/internal/reach"
	"github.com/dockmap/dockmap/internal/topology"
)

// id turns a readable name into a 64-digit engine ID.
func id(name string) string {
	h := fmt.Sprintf("%x", name)
	return h + strings.Repeat("0", 64-len(h))
}

func node(name string) topology.NodeID { return topology.ContainerNodeID(id(name)) }

// Networks of the scenes; each test picks the ones it needs.
var (
	bridge      = topology.Network{ID: id("bridge"), Name: "bridge", Driver: "bridge", ICC: true, Default: true}
	bridgeNoICC = topology.Network{ID: id("bridge"), Name: "bridge", Driver: "bridge", Default: true}
	hostNet     = topology.Network{ID: id("host"), Name: "host", Driver: "host", ICC: true}
	noneNet     = topology.Network{ID: id("none"), Name: "none", Driver: "null", ICC: true}
	appnet      = topology.Network{ID: id("appnet"), Name: "appnet", Driver: "bridge", ICC: true}
	backnet     = topology.Network{ID: id("backnet"), Name: "backnet", Driver: "bridge", ICC: true}
	vault       = topology.Network{ID: id("vault"), Name: "vault", Driver: "bridge", ICC: true, Internal: true}
	quiet       = topology.Network{ID: id("quiet"), Name: "quiet", Driver: "bridge"}
	allNets     = []topology.Network{bridge, hostNet, noneNet, appnet, backnet, vault, quiet}
	iccNets     = []topology.Network{bridgeNoICC, hostNet, noneNet, appnet}
)

type option func(*topology.Container)

// ctr is a running container with the given options.
func ctr(name string, opts ...option) topology.Container {
	c := topology.Container{ID: id(name), Name: name, Names: []string{name}, State: "running", Status: "Up 1 minute"}
	for _, o := range opts {
		o(&c)
	}
	return c
}

// on attaches the container to a network by name, with aliases.
func on(network string, aliases ...string) option {
	return func(c *topology.Container) {
		c.Endpoints = append(c.Endpoints, topology.Endpoint{
			NetworkName: network, EndpointID: "ep-" + c.Name + "-" + network,
			IP: fmt.Sprintf("10.0.%d.%d", len(network), len(c.Name)), Gateway: "10.0.0.1", Aliases: aliases,
		})
	}
}

func stopped(c *topology.Container) { c.State, c.Status = "exited", "Exited (0) 1 minute ago" }

func mode(m string) option { return func(c *topology.Container) { c.NetworkMode = m } }

// in puts the container in another's network namespace.
func in(donor string) option { return mode("container:" + id(donor)) }

// linkedFrom records that parent has --link <this>:alias.
func linkedFrom(parent, alias string) option {
	return func(c *topology.Container) { c.Names = append(c.Names, parent+"/"+alias) }
}

func port(p uint16) option {
	return func(c *topology.Container) {
		c.Ports = append(c.Ports, topology.Port{PrivatePort: p, Type: "tcp"})
	}
}

func graph(nets []topology.Network, cs ...topology.Container) topology.Graph {
	return topology.Build(topology.Inventory{Networks: nets, Containers: cs})
}

// result is the part of an Outcome a rule decides.
type result struct {
	OK    bool
	Via   string
	Codes []string
}

func resultOf(o reach.Outcome) result {
	r := result{OK: o.OK, Via: o.Via, Codes: []string{}}
	for _, x := range o.Reasons {
		r.Codes = append(r.Codes, x.Code)
	}
	return r
}

func okVia(via string, codes ...string) result {
	return result{OK: true, Via: via, Codes: append([]string{}, codes...)}
}
func no(codes ...string) result { return result{Codes: append([]string{}, codes...)} }

func TestExplain(t *testing.T) {
	db := func(opts ...option) topology.Container { return ctr("database", append(opts, port(5432))...) }
	tests := []struct {
		name            string
		g               topology.Graph
		from, to        string
		ip, byName, tcp result
		// texts are substrings expected among the reasons' texts and fixes.
		texts []string
	}{
		{
			name: "user-defined network",
			g:    graph(allNets, ctr("web", on("appnet")), db(on("appnet"))),
			from: "web", to: "database",
			ip: okVia("appnet"), byName: okVia("appnet", "common-network"), tcp: okVia("appnet"),
		},
		{
			name: "user-defined network, back the other way; web exposes nothing",
			g:    graph(allNets, ctr("web", on("appnet")), db(on("appnet"))),
			from: "database", to: "web",
			ip: okVia("appnet"), byName: okVia("appnet", "common-network"), tcp: no("no-exposed-port"),
		},
		{
			name: "target stopped",
			g:    graph(allNets, ctr("web", on("appnet")), db(on("appnet"), stopped)),
			from: "web", to: "database",
			ip: no("stopped"), byName: no("stopped"), tcp: no("stopped"),
			texts: []string{"database is stopped.", "Start it (docker start database)."},
		},
		{
			name: "both stopped",
			g:    graph(allNets, ctr("web", on("appnet"), stopped), db(on("appnet"), stopped)),
			from: "web", to: "database",
			ip: no("stopped", "stopped"), byName: no("stopped", "stopped"), tcp: no("stopped", "stopped"),
			texts: []string{"web is stopped.", "database is stopped."},
		},
		{
			name: "from uses to's namespace",
			g:    graph(allNets, ctr("web", in("database")), db(on("bridge"))),
			from: "web", to: "database",
			ip: okVia("shared namespace", "shared-namespace"), byName: okVia("localhost", "shared-namespace"),
			tcp:   okVia("shared namespace", "shared-namespace"),
			texts: []string{"web runs in database's network namespace: they are the same host on the network; use localhost."},
		},
		{
			name: "to uses from's namespace",
			g:    graph(allNets, ctr("web", in("database")), db(on("bridge"))),
			from: "database", to: "web",
			ip: okVia("shared namespace", "shared-namespace"), byName: okVia("localhost", "shared-namespace"),
			tcp:   no("shared-namespace", "no-exposed-port"),
			texts: []string{"web runs in database's network namespace"},
		},
		{
			name: "both use a third's namespace",
			g:    graph(allNets, ctr("pause", on("appnet")), ctr("web", in("pause")), db(in("pause"))),
			from: "web", to: "database",
			ip: okVia("shared namespace", "shared-namespace"), byName: okVia("localhost", "shared-namespace"),
			tcp:   okVia("shared namespace", "shared-namespace"),
			texts: []string{"web and database both run in pause's network namespace"},
		},
		{
			name: "namespace donor stopped",
			g:    graph(allNets, ctr("pause", on("appnet"), stopped), ctr("web", in("pause")), db(on("appnet"))),
			from: "web", to: "database",
			ip: no("donor-stopped"), byName: no("donor-stopped"), tcp: no("donor-stopped"),
			texts: []string{"web runs in pause's network namespace, and pause is stopped."},
		},
		{
			name: "borrowed namespace reaches the donor's networks",
			g:    graph(allNets, ctr("pause", on("appnet")), ctr("web", in("pause")), db(on("appnet"))),
			from: "web", to: "database",
			ip: okVia("appnet"), byName: okVia("appnet", "common-network"), tcp: okVia("appnet"),
		},
		{
			name: "no network in common",
			g:    graph(allNets, ctr("web", on("appnet")), db(on("backnet"))),
			from: "web", to: "database",
			ip: no("no-common-network"), byName: no("no-common-network"), tcp: no("no-common-network"),
			texts: []string{"web and database have no network in common.", "Attach database to appnet (docker network connect appnet database)."},
		},
		{
			name: "no network in common, only the target on a user network",
			g:    graph(allNets, ctr("web", on("bridge")), db(on("backnet"))),
			from: "web", to: "database",
			ip: no("no-common-network"), byName: no("no-common-network"), tcp: no("no-common-network"),
			texts: []string{"Attach web to backnet (docker network connect backnet web)."},
		},
		{
			name: "no network at all in common, none user-defined",
			g:    graph(allNets, ctr("web"), db(on("bridge"))),
			from: "web", to: "database",
			ip: no("no-common-network"), byName: no("no-common-network"), tcp: no("no-common-network"),
			texts: []string{"docker network create appnet"},
		},
		{
			name: "default bridge only: no DNS",
			g:    graph(allNets, ctr("web", on("bridge")), db(on("bridge"))),
			from: "web", to: "database",
			ip: okVia("bridge"), byName: no("no-dns-default-bridge"), tcp: okVia("bridge"),
			texts: []string{"the default bridge has no DNS: names resolve only through links or a user-defined network."},
		},
		{
			name: "default bridge with a link",
			g:    graph(allNets, ctr("web", on("bridge")), db(on("bridge"), linkedFrom("web", "db"))),
			from: "web", to: "database",
			ip: okVia("bridge"), byName: okVia("link alias db", "link"), tcp: okVia("bridge"),
		},
		{
			name: "default bridge: the link is one-way",
			g:    graph(allNets, ctr("web", on("bridge"), port(80)), db(on("bridge"), linkedFrom("web", "db"))),
			from: "database", to: "web",
			ip: okVia("bridge"), byName: no("no-dns-default-bridge", "one-way-link"), tcp: okVia("bridge"),
			texts: []string{"the link is one-way: web→database, not database→web."},
		},
		{
			name: "internal network",
			g:    graph(allNets, ctr("web", on("vault")), db(on("vault"))),
			from: "web", to: "database",
			ip: okVia("vault", "internal"), byName: okVia("vault", "common-network", "internal"), tcp: okVia("vault", "internal"),
			texts: []string{"vault is internal: its members reach each other, but nothing outside it is reachable from them."},
		},
		{
			name: "ICC off on a user-defined bridge",
			g:    graph(allNets, ctr("web", on("quiet")), db(on("quiet"))),
			from: "web", to: "database",
			ip: no("icc-off"), byName: no("icc-off"), tcp: no("icc-off"),
			texts: []string{"inter-container communication is off on quiet: ping is blocked"},
		},
		{
			name: "ICC off on the default bridge, linked: TCP only",
			g:    graph(iccNets, ctr("web", on("bridge")), db(on("bridge"), linkedFrom("web", "db"))),
			from: "web", to: "database",
			ip: no("icc-off"), byName: no("icc-off"), tcp: okVia("link alias db", "link-ports"),
			texts: []string{"inter-container communication is off on bridge: ping is blocked"},
		},
		{
			name: "ICC off on the default bridge, not linked",
			g:    graph(iccNets, ctr("web", on("bridge")), db(on("bridge"))),
			from: "web", to: "database",
			ip: no("icc-off"), byName: no("icc-off", "no-dns-default-bridge"), tcp: no("icc-off"),
		},
		{
			name: "ICC off on the default bridge, linked the other way",
			g:    graph(iccNets, ctr("web", on("bridge"), port(80)), db(on("bridge"), linkedFrom("web", "db"))),
			from: "database", to: "web",
			ip: no("icc-off"), byName: no("icc-off", "no-dns-default-bridge", "one-way-link"), tcp: no("icc-off"),
		},
		{
			name: "from in host mode",
			g:    graph(allNets, ctr("web", mode("host"), on("host")), db(on("appnet"))),
			from: "web", to: "database",
			ip: okVia("appnet", "host-network"), byName: no("host-network"), tcp: okVia("appnet", "host-network"),
			texts: []string{"web uses the host's network stack"},
		},
		{
			name: "to in host mode",
			g:    graph(allNets, ctr("web", on("appnet")), db(mode("host"), on("host"))),
			from: "web", to: "database",
			ip: no("host-network"), byName: no("host-network"), tcp: no("host-network"),
			texts: []string{"database uses the host's network stack", "the gateway 10.0.0.1"},
		},
		{
			name: "both in host mode",
			g:    graph(allNets, ctr("web", mode("host"), on("host")), db(mode("host"), on("host"))),
			from: "web", to: "database",
			ip: okVia("host network", "host-network"), byName: okVia("localhost", "host-network"), tcp: okVia("host network", "host-network"),
		},
		{
			name: "from has no network",
			g:    graph(allNets, ctr("web", mode("none"), on("none")), db(on("appnet"))),
			from: "web", to: "database",
			ip: no("no-network"), byName: no("no-network"), tcp: no("no-network"),
			texts: []string{"web has no network (--network none)."},
		},
		{
			name: "to has no network",
			g:    graph(allNets, ctr("web", on("appnet")), db(mode("none"))),
			from: "web", to: "database",
			ip: no("no-network"), byName: no("no-network"), tcp: no("no-network"),
		},
		{
			name: "several networks: the user network carries the name",
			g:    graph(allNets, ctr("web", on("bridge"), on("appnet")), db(on("bridge"), on("appnet"))),
			from: "web", to: "database",
			ip: okVia("appnet"), byName: okVia("appnet", "common-network"), tcp: okVia("appnet"),
		},
		{
			name: "several networks: ICC off on one, the default bridge still pings",
			g:    graph(allNets, ctr("web", on("bridge"), on("quiet")), db(on("bridge"), on("quiet"))),
			from: "web", to: "database",
			ip: okVia("bridge"), byName: no("icc-off", "no-dns-default-bridge"), tcp: okVia("bridge"),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := reach.Explain(tt.g, node(tt.from), node(tt.to))
			if err != nil {
				t.Fatalf("Explain: %v", err)
			}
			if p.From != id(tt.from) || p.To != id(tt.to) {
				t.Errorf("From, To = %s, %s, want the full IDs of %s, %s", p.From, p.To, tt.from, tt.to)
			}
			for _, o := range []struct {
				by   string
				got  reach.Outcome
				want result
			}{{"ByIP", p.ByIP, tt.ip}, {"ByName", p.ByName, tt.byName}, {"TCP", p.TCP, tt.tcp}} {
				if diff := cmp.Diff(o.want, resultOf(o.got)); diff != "" {
					t.Errorf("%s mismatch (-want +got):\n%s\nreasons: %+v", o.by, diff, o.got.Reasons)
				}
				fixed := false
				for _, r := range o.got.Reasons {
					if r.Text == "" || r.Code == "" {
						t.Errorf("%s has a reason without code or text: %+v", o.by, r)
					}
					fixed = fixed || r.Fix != ""
				}
				if !o.got.OK && !fixed {
					t.Errorf("%s fails and no reason offers a fix: %+v", o.by, o.got.Reasons)
				}
			}
			all := allText(p)
			for _, want := range tt.texts {
				if !strings.Contains(all, want) {
					t.Errorf("reasons lack %q; they are:\n%s", want, all)
				}
			}
		})
	}
}

func allText(p reach.Prediction) string {
	var b strings.Builder
	for _, o := range []reach.Outcome{p.ByIP, p.ByName, p.TCP} {
		for _, r := range o.Reasons {
			fmt.Fprintf(&b, "%s: %s | %s\n", r.Code, r.Text, r.Fix)
		}
	}
	return b.String()
}

func TestExplainName(t *testing.T) {
	tests := []struct {
		name     string
		g        topology.Graph
		from, to string
		query    string
		want     result
		texts    []string
	}{
		{
			name: "alias on the user network",
			g:    graph(allNets, ctr("web", on("appnet")), ctr("database", on("appnet", "db"))),
			from: "web", to: "database", query: "db",
			want: okVia("appnet", "common-network"),
		},
		{
			name: "container name, any case",
			g:    graph(allNets, ctr("web", on("appnet")), ctr("database", on("appnet"))),
			from: "web", to: "database", query: "Database",
			want: okVia("appnet", "common-network"),
		},
		{
			name: "short ID",
			g:    graph(allNets, ctr("web", on("appnet")), ctr("database", on("appnet"))),
			from: "web", to: "database", query: id("database")[:12],
			want: okVia("appnet", "common-network"),
		},
		{
			name: "alias only on another network",
			g:    graph(allNets, ctr("web", on("appnet")), ctr("database", on("appnet"), on("backnet", "db"))),
			from: "web", to: "database", query: "db",
			want:  no("unknown-name"),
			texts: []string{"docker network connect --alias db appnet database"},
		},
		{
			name: "link alias on the default bridge",
			g:    graph(allNets, ctr("web", on("bridge")), ctr("database", on("bridge"), linkedFrom("web", "db"))),
			from: "web", to: "database", query: "db",
			want: okVia("link alias db", "link"),
		},
		{
			name: "the link also writes the target's name",
			g:    graph(allNets, ctr("web", on("bridge")), ctr("database", on("bridge"), linkedFrom("web", "db"))),
			from: "web", to: "database", query: "database",
			want: okVia("link alias db", "link"),
		},
		{
			name: "default bridge without a link",
			g:    graph(allNets, ctr("web", on("bridge")), ctr("database", on("bridge"))),
			from: "web", to: "database", query: "database",
			want:  no("unknown-name", "no-dns-default-bridge"),
			texts: []string{"--link database:database"},
		},
		{
			name: "ICC off: resolves, ping blocked",
			g:    graph(allNets, ctr("web", on("quiet")), ctr("database", on("quiet"))),
			from: "web", to: "database", query: "database",
			want: no("icc-off"),
		},
		{
			name: "localhost in a shared namespace",
			g:    graph(allNets, ctr("web", in("database")), ctr("database", on("appnet"))),
			from: "web", to: "database", query: "localhost",
			want: okVia("shared namespace", "shared-namespace"),
		},
		{
			name: "a name in a shared namespace",
			g:    graph(allNets, ctr("web", in("database")), ctr("database", on("appnet"))),
			from: "web", to: "database", query: "db",
			want: no("unknown-name"),
		},
		{
			name: "no network in common",
			g:    graph(allNets, ctr("web", on("appnet")), ctr("database", on("backnet", "db"))),
			from: "web", to: "database", query: "db",
			want: no("no-common-network"),
		},
		{
			name: "stopped",
			g:    graph(allNets, ctr("web", on("appnet")), ctr("database", on("appnet", "db"), stopped)),
			from: "web", to: "database", query: "db",
			want: no("stopped"),
		},
		{
			name: "from in host mode",
			g:    graph(allNets, ctr("web", mode("host"), on("host")), ctr("database", on("appnet"))),
			from: "web", to: "database", query: "database",
			want: no("host-network"),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o, err := reach.ExplainName(tt.g, node(tt.from), node(tt.to), tt.query)
			if err != nil {
				t.Fatalf("ExplainName: %v", err)
			}
			if diff := cmp.Diff(tt.want, resultOf(o)); diff != "" {
				t.Errorf("ExplainName mismatch (-want +got):\n%s\nreasons: %+v", diff, o.Reasons)
			}
			all := allText(reach.Prediction{ByName: o})
			for _, want := range tt.texts {
				if !strings.Contains(all, want) {
					t.Errorf("reasons lack %q; they are:\n%s", want, all)
				}
			}
		})
	}
}

func TestExplainErrors(t *testing.T) {
	g := graph(allNets, ctr("web", on("appnet")), ctr("database", on("appnet")))
	tests := []struct {
		name     string
		from, to topology.NodeID
		want     error
	}{
		{"unknown from", node("ghost"), node("database"), topology.ErrNotFound},
		{"unknown to", node("web"), node("ghost"), topology.ErrNotFound},
		{"network node", node("web"), topology.NetworkNodeID(id("appnet")), topology.ErrInvalid},
		{"itself", node("web"), node("web"), topology.ErrInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := reach.Explain(g, tt.from, tt.to); !errors.Is(err, tt.want) {
				t.Errorf("Explain error = %v, want %v", err, tt.want)
			}
			if _, err := reach.ExplainName(g, tt.from, tt.to, "web"); !errors.Is(err, tt.want) {
				t.Errorf("ExplainName error = %v, want %v", err, tt.want)
			}
		})
	}
	if _, err := reach.ExplainName(g, node("web"), node("database"), " "); !errors.Is(err, topology.ErrInvalid) {
		t.Errorf("ExplainName with an empty name: error = %v, want ErrInvalid", err)
	}
}

func TestAgree(t *testing.T) {
	p := reach.Prediction{ByIP: reach.Outcome{OK: true}, ByName: reach.Outcome{OK: false}, TCP: reach.Outcome{OK: true}}
	tests := []struct {
		by   string
		ok   bool
		want bool
	}{
		{"ip", true, true},
		{"ip", false, false},
		{"name", false, true},
		{"name", true, false},
		{"tcp", true, true},
		{"tcp", false, false},
		{"icmp", true, false},
		{"", false, false},
	}
	for _, tt := range tests {
		if got := reach.Agree(p, tt.by, tt.ok); got != tt.want {
			t.Errorf("Agree(p, %q, %v) = %v, want %v", tt.by, tt.ok, got, tt.want)
		}
	}
}

// TestJSON checks the contract the page codes against: the tags, and
// reasons as a list even when empty.
func TestJSON(t *testing.T) {
	g := graph(allNets, ctr("web", on("bridge")), ctr("database", on("bridge"), port(5432)))
	p, err := reach.Explain(g, node("web"), node("database"))
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	for _, want := range []string{
		`"from":"` + id("web") + `"`, `"byIP":{"ok":true,"via":"bridge","reasons":[]}`,
		`"byName":{"ok":false,"reasons":[{"code":"no-dns-default-bridge"`, `"tcp":{"ok":true`,
	} {
		if !strings.Contains(s, want) {
			t.Errorf("JSON lacks %s:\n%s", want, s)
		}
	}
}

// TestExplainerMatchesExplain checks that one Explainer, asked many times,
// answers as the one-shot Explain does.
func TestExplainerMatchesExplain(t *testing.T) {
	g := graph(allNets,
		ctr("web", on("bridge"), on("appnet")), ctr("database", on("bridge"), on("appnet", "db"), linkedFrom("web", "db"), port(5432)),
		ctr("cache", on("backnet")), ctr("exporter", in("web")), ctr("job", on("appnet"), stopped))
	x := reach.New(g)
	names := []string{"web", "database", "cache", "exporter", "job"}
	for _, a := range names {
		for _, b := range names {
			if a == b {
				continue
			}
			got, err := x.Explain(node(a), node(b))
			if err != nil {
				t.Fatal(err)
			}
			want, _ := reach.Explain(g, node(a), node(b))
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("%s→%s mismatch (-Explain +Explainer):\n%s", a, b, diff)
			}
		}
	}
}

// TestTarget pins the address a probe by IP uses to the path the ByIP
// prediction is about. The scenes' addresses are 10.0.<len(network)>.<len(name)>.
func TestTarget(t *testing.T) {
	tests := []struct {
		name string
		g    topology.Graph
		from string
		to   string
		want string
	}{
		{
			// quiet (user-defined, ICC off) comes first but drops the ping;
			// the default bridge carries it.
			name: "user network with icc off, bridge works",
			g:    graph(allNets, ctr("a", on("quiet"), on("bridge")), ctr("b", on("quiet"), on("bridge"))),
			from: "a", to: "b", want: "10.0.6.1",
		},
		{
			name: "user-defined network before the default bridge",
			g:    graph(allNets, ctr("a", on("bridge"), on("backnet")), ctr("b", on("bridge"), on("backnet"))),
			from: "a", to: "b", want: "10.0.7.1",
		},
		{
			name: "no network works: the first shared one",
			g:    graph(allNets, ctr("a", on("quiet")), ctr("b", on("backnet"), on("quiet"))),
			from: "a", to: "b", want: "10.0.5.1",
		},
		{
			name: "no shared network: the target's first address",
			g:    graph(allNets, ctr("a", on("backnet")), ctr("b", on("quiet"))),
			from: "a", to: "b", want: "10.0.5.1",
		},
		{
			name: "a namespace borrower is reached at its owner's address",
			g:    graph(allNets, ctr("a", on("backnet")), ctr("bb", on("backnet")), ctr("c", in("bb"))),
			from: "a", to: "c", want: "10.0.7.2",
		},
		{
			name: "host mode has no container address",
			g:    graph(allNets, ctr("a", on("bridge")), ctr("b", on("host"), mode("host"))),
			from: "a", to: "b", want: "",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := reach.New(tt.g).Target(node(tt.from), node(tt.to))
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("Target(%s, %s) = %q, want %q", tt.from, tt.to, got, tt.want)
			}
		})
	}
	if _, err := reach.New(graph(allNets, ctr("a"))).Target(node("a"), node("a")); !errors.Is(err, topology.ErrInvalid) {
		t.Errorf("Target(a, a) error = %v, want ErrInvalid", err)
	}
}

// brokenTo records that the container has a legacy link alias to target,
// a container that was removed.
func brokenTo(target, alias string) option {
	return func(c *topology.Container) { c.Links = append(c.Links, topology.LinkRef{Target: target, Alias: alias}) }
}

// endpointLink gives the container's endpoint on network the link
// target:alias.
func endpointLink(network, target, alias string) option {
	return func(c *topology.Container) {
		for i := range c.Endpoints {
			if c.Endpoints[i].NetworkName == network {
				c.Endpoints[i].Links = append(c.Endpoints[i].Links, target+":"+alias)
			}
		}
	}
}

func TestBrokenLinkIsExplained(t *testing.T) {
	old := "database-dockmap-old-0123456789ab"
	g := graph(allNets,
		ctr("web", on("bridge"), brokenTo(old, "db")),
		ctr("database", on("bridge")),
	)
	o, err := reach.ExplainName(g, node("web"), node("database"), "db")
	if err != nil {
		t.Fatal(err)
	}
	if o.OK || len(o.Reasons) != 1 || o.Reasons[0].Code != "broken-link" ||
		!strings.Contains(o.Reasons[0].Text, "the old database") || !strings.Contains(o.Reasons[0].Fix, "Repair") {
		t.Errorf("by the broken alias = %+v, want a failure explaining the broken link and its repair", o)
	}
	p, err := reach.Explain(g, node("web"), node("database"))
	if err != nil {
		t.Fatal(err)
	}
	for name, out := range map[string]reach.Outcome{"ip": p.ByIP, "name": p.ByName, "tcp": p.TCP} {
		if !hasCode(out.Reasons, "broken-link") {
			t.Errorf("%s outcome %+v carries no broken-link note: a probe from web cannot run", name, out)
		}
	}

	stoppedWeb := graph(allNets, ctr("web", on("bridge"), brokenTo(old, "db"), stopped), ctr("database", on("bridge")))
	p, err = reach.Explain(stoppedWeb, node("web"), node("database"))
	if err != nil {
		t.Fatal(err)
	}
	if r := p.ByIP.Reasons[0]; r.Code != "stopped" || !strings.Contains(r.Fix, "broken link db") {
		t.Errorf("stopped web's fix = %+v, want to repair the link first (it cannot start)", r)
	}
}

func hasCode(rs []reach.Reason, code string) bool {
	for _, r := range rs {
		if r.Code == code {
			return true
		}
	}
	return false
}

func TestEndpointLinkResolvesOnItsNetwork(t *testing.T) {
	g := graph(allNets,
		ctr("web", mode("appnet"), on("appnet"), endpointLink("appnet", "database", "db")),
		ctr("database", mode("appnet"), on("appnet")),
	)
	for name, want := range map[string]bool{"db": true, "database": true, "nope": false} {
		o, err := reach.ExplainName(g, node("web"), node("database"), name)
		if err != nil {
			t.Fatal(err)
		}
		if o.OK != want {
			t.Errorf("web → database by %q = %+v, want ok %v", name, o, want)
		}
	}
	back, err := reach.ExplainName(g, node("database"), node("web"), "db")
	if err != nil {
		t.Fatal(err)
	}
	if back.OK {
		t.Errorf("database → web by db = %+v: an endpoint link is web's alone", back)
	}
}
