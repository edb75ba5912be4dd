package plan_test

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"maps"
	"regexp"
	"slices"
	"strings"
	"testing"
	"unicode"

	"github.com/dockmap/dockmap/internal/plan"
	"github.com/dockmap/dockmap/internal/topology"
)

// Fuzz targets for the planner (issue 6): each builds a small graph with
// topology.Build, fuzzes the fields of a request and checks that an
// accepted request only names what the graph has, and that every plan is
// well formed (checkPlan). Their seed corpus (SEC-12…SEC-17 of
// research/security-reliability-anchors.md §7.1) runs with plain
// `go test`; `go test -fuzz '^FuzzX$' ./internal/plan/` explores further.
//
// This file holds what the targets share (the corpus, the graph, the
// checks) and FuzzDecodeRequests; the targets of each action sit in
// fuzz_containers_test.go, fuzz_links_test.go, fuzz_networks_test.go and
// fuzz_volumes_test.go.
//
// The probe request is no planner action: FuzzProbeRequest stays with it
// in internal/server.

var fuzzNasty = []string{
	"", "a", "-x", ".x", "x/y", "x:y", "../x", "x y", "ümlaut", "\x00", "\n", "web\n", "--privileged",
	"; id", "$(reboot)", "127.0.0.1 -f", "-c 100000", strings.Repeat("h", 300), "169.254.169.254",
	"/", "/etc", "/var/run/docker.sock", "x:/etc", "x:/t:rw", "..", "a:b:c", ":x", "x:", "A B", "bridge",
	"host", "none", "default", "   ", "^", "aaaa", strings.Repeat("a", 64), strings.Repeat("a", 4096),
	"web", "db", "client", "hosty", "sidecar", "api", "link", "data", "remote", "appnet", "newnet",
	"c:web", fid('1'), fid('1')[:12], fid('a'), fid('a')[:4], "n:" + fid('a'), "10.42.0.2", "10.42.0.3",
	"172.17.0.4", "10.42.0.9", "10.50.0.0/24", "10.50.0.1", "10.42.0.0/16", "/srv/share/x", "/mnt/x",
	"/data", "busybox:latest",
	// The objects the graph gained for the planner's own actions.
	"legacy", "link2", "olddb", "gone", "dbal", "stale", "backup", "backup2", "dind", "frozen", "cl",
	"temp", "self", "cache-dockmap-old-0123456789ab", "hostroot", "project", "empty", "spare", fid('6'), fid('e'),
}

func fid(c byte) string { return strings.Repeat(string(c), 64) }

// fuzzGraph: default bridge with db (172.17.0.3) and client (172.17.0.4,
// link to db as "link"); appnet (10.42.0.0/24) with web (10.42.0.2, alias
// "api", volume data at /data, endpoint links db:dbal and the dangling
// gone2:stale) and db (10.42.0.3); host and none networks; hosty in host
// mode, sidecar sharing web's stack; volumes data (local), remote (nfs),
// hostroot (binds /), project (binds /srv/share/p) and empty.
//
// On the bridge too: legacy (a live link to db as link2, broken links olddb
// to db's leftover name and gone to a removed container), backup and
// backup2 (took web's volumes by name and by ID; backup2 has a broken
// link self to its own leftover name), dind (binds the Docker
// socket), frozen (paused, links to client as cl), temp (run with --rm)
// and cache-dockmap-old-… (a re-create's leftover). The network spare has
// no member.
func fuzzGraph() topology.Graph {
	bridge := func(ip string) []topology.Endpoint {
		return []topology.Endpoint{{NetworkID: fid('b'), NetworkName: "bridge", IP: ip}}
	}
	return topology.Build(topology.Inventory{
		Networks: []topology.Network{
			{ID: fid('b'), Name: "bridge", Driver: "bridge", Default: true, ICC: true, Subnets: []topology.Subnet{{Subnet: "172.17.0.0/16", Gateway: "172.17.0.1"}}},
			{ID: fid('a'), Name: "appnet", Driver: "bridge", ICC: true, Subnets: []topology.Subnet{{Subnet: "10.42.0.0/24", Gateway: "10.42.0.1"}}},
			{ID: fid('f'), Name: "spare", Driver: "bridge", ICC: true, Subnets: []topology.Subnet{{Subnet: "10.43.0.0/24", Gateway: "10.43.0.1"}}},
			{ID: fid('h'), Name: "host", Driver: "host"},
			{ID: fid('0'), Name: "none", Driver: "null"},
		},
		Containers: []topology.Container{
			{ID: fid('1'), Name: "web", Names: []string{"web"}, State: "running", NetworkMode: "appnet",
				Endpoints: []topology.Endpoint{{NetworkID: fid('a'), NetworkName: "appnet", IP: "10.42.0.2", Aliases: []string{"api"}, Links: []string{"db:dbal", "gone2:stale"}}},
				Mounts:    []topology.Mount{{Type: "volume", Name: "data", Destination: "/data", Driver: "local", RW: true}}},
			{ID: fid('2'), Name: "db", Names: []string{"db", "client/link", "legacy/link2"}, State: "running", NetworkMode: "bridge",
				Endpoints: []topology.Endpoint{
					{NetworkID: fid('b'), NetworkName: "bridge", IP: "172.17.0.3"},
					{NetworkID: fid('a'), NetworkName: "appnet", IP: "10.42.0.3"}}},
			{ID: fid('3'), Name: "client", Names: []string{"client", "frozen/cl"}, State: "running", NetworkMode: "bridge", Endpoints: bridge("172.17.0.4")},
			{ID: fid('4'), Name: "hosty", Names: []string{"hosty"}, State: "running", NetworkMode: "host"},
			{ID: fid('5'), Name: "sidecar", Names: []string{"sidecar"}, State: "exited", NetworkMode: "container:" + fid('1')},
			{ID: fid('6'), Name: "legacy", Names: []string{"legacy"}, State: "exited", NetworkMode: "bridge", Endpoints: bridge(""),
				Links: []topology.LinkRef{{Target: "db", Alias: "link2"}, {Target: "db-dockmap-old-0123456789ab", Alias: "olddb"}, {Target: "gone", Alias: "gone"}}},
			{ID: fid('7'), Name: "backup", Names: []string{"backup"}, State: "exited", NetworkMode: "bridge", Endpoints: bridge(""),
				VolumesFrom: []string{"web"}, Mounts: []topology.Mount{{Type: "volume", Name: "data", Destination: "/data", Driver: "local", RW: true}}},
			{ID: fid('8'), Name: "backup2", Names: []string{"backup2"}, State: "running", NetworkMode: "bridge", Endpoints: bridge("172.17.0.8"),
				VolumesFrom: []string{fid('1') + ":ro"}, Mounts: []topology.Mount{{Type: "volume", Name: "data", Destination: "/data", Driver: "local"}},
				Links: []topology.LinkRef{{Target: "backup2-dockmap-old-abcdefabcdef", Alias: "self"}}},
			{ID: fid('9'), Name: "dind", Names: []string{"dind"}, State: "running", NetworkMode: "bridge", Endpoints: bridge("172.17.0.9"),
				Mounts: []topology.Mount{{Type: "bind", Source: "/var/run/docker.sock", Destination: "/var/run/docker.sock", RW: true}}},
			{ID: fid('c'), Name: "cache-dockmap-old-0123456789ab", Names: []string{"cache-dockmap-old-0123456789ab"}, State: "exited", NetworkMode: "bridge", Endpoints: bridge("")},
			{ID: fid('d'), Name: "temp", Names: []string{"temp"}, State: "running", NetworkMode: "bridge", Endpoints: bridge("172.17.0.13"), AutoRemove: true},
			{ID: fid('e'), Name: "frozen", Names: []string{"frozen"}, State: "paused", NetworkMode: "bridge", Endpoints: bridge("172.17.0.14")},
		},
		Volumes: []topology.Volume{
			{Name: "data", Driver: "local"}, {Name: "remote", Driver: "nfs"}, {Name: "empty", Driver: "local"},
			{Name: "hostroot", Driver: "local", Options: map[string]string{"type": "none", "o": "bind", "device": "/"}},
			{Name: "project", Driver: "local", Options: map[string]string{"type": "none", "o": "bind", "device": "/srv/share/p"}},
		},
	})
}

// fuzzAllow is the --allow-bind prefix of the fuzzed planners.
const fuzzAllow = "/srv/share"

// fuzzPlanner is the planner every target but FuzzMount uses.
func fuzzPlanner(f *testing.F) *plan.Planner {
	f.Helper()
	allow, err := topology.ValidateBindPrefixes([]string{fuzzAllow + "/"})
	if err != nil {
		f.Fatal(err)
	}
	return plan.New(plan.Options{AllowBinds: allow})
}

var nameRuleAgain = regexp.MustCompile(`^[a-zA-Z0-9][a-zA-Z0-9_.-]+$`)

func checkName(t *testing.T, what, name string) {
	t.Helper()
	if !nameRuleAgain.MatchString(name) || len(name) > topology.MaxNameLen ||
		strings.ContainsAny(name, "/:\x00") || strings.IndexFunc(name, unicode.IsSpace) >= 0 {
		t.Errorf("%s %q accepted, but it breaks the name rule", what, name)
	}
}

func checkSentinel(t *testing.T, what string, err error) {
	t.Helper()
	for _, s := range []error{topology.ErrInvalid, topology.ErrNotFound, topology.ErrConflict, topology.ErrForbidden} {
		if errors.Is(err, s) {
			return
		}
	}
	t.Errorf("%s = %v, want it to wrap ErrInvalid, ErrNotFound, ErrConflict or ErrForbidden", what, err)
}

// containerIn reports whether id is the full ID of a container in g, and
// returns it.
func containerIn(g topology.Graph, id string) (topology.Node, bool) {
	n, ok := g.Node(topology.ContainerNodeID(id))
	return n, ok && n.Container != nil && n.Container.ID == id
}

// networkIn reports whether id is the ID of a network in g, and returns it.
func networkIn(g topology.Graph, id string) (topology.Node, bool) {
	n, ok := g.Node(topology.NetworkNodeID(id))
	return n, ok && n.Network != nil && n.Network.ID == id
}

// volumeIn reports whether name is a volume of g, and returns it.
func volumeIn(g topology.Graph, name string) (topology.Node, bool) {
	n, ok := g.Node(topology.VolumeNodeID(name))
	return n, ok && n.Volume != nil && n.Volume.Name == name
}

// split turns one fuzzed string into a JSON list field.
func split(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(s, ",")
}

// planCall is one planner call, made twice by checkPlanned.
type planCall func() (*plan.Plan, error)

// checkPlanned makes the call, checks a refusal wraps a sentinel and an
// accepted plan is well formed (checkPlan) and the same when planned again.
// It returns the plan, or nil when refused.
func checkPlanned(t *testing.T, g topology.Graph, what string, call planCall) *plan.Plan {
	t.Helper()
	p, err := call()
	if err != nil {
		if p != nil {
			t.Errorf("%s returned a plan with the error %v", what, err)
		}
		checkSentinel(t, what, err)
		return nil
	}
	checkPlan(t, g, what, p)
	if again, err := call(); err != nil || again.ID != p.ID {
		t.Errorf("%s planned again = %v, %v; want the plan %s again", what, again, err, p.ID)
	}
	return p
}

// checkPlan checks what every plan must be: a sealed ID, named steps, a
// confirm exactly when it re-creates, the subject re-created first, and
// only containers of the graph re-created, depended on or broken.
func checkPlan(t *testing.T, g topology.Graph, what string, p *plan.Plan) {
	t.Helper()
	if p == nil {
		t.Fatalf("%s returned neither a plan nor an error", what)
	}
	if b, err := hex.DecodeString(p.ID); err != nil || len(b) != 10 {
		t.Errorf("%s: plan ID %q, want 20 hex digits", what, p.ID)
	}
	if len(p.Steps) == 0 {
		t.Errorf("%s: a plan with no steps: %+v", what, p)
	}
	seen := map[string]bool{}
	for _, s := range p.Steps {
		if s.ID == "" || seen[s.ID] {
			t.Errorf("%s: step ID %q is empty or given twice (steps %v)", what, s.ID, stepIDs(p))
		}
		seen[s.ID] = true
	}
	if p.Confirm != (p.Method == plan.MethodRecreate) {
		t.Errorf("%s: Confirm = %v for method %s: a re-create must need a confirm, nothing else", what, p.Confirm, p.Method)
	}
	if p.Method == plan.MethodRecreate {
		if len(p.Recreates) == 0 || p.Recreates[0].Container != p.Subject {
			t.Errorf("%s: re-creates %v, want the subject %v first", what, recreated(p), p.Subject)
		}
		if !p.RecreateDependents && len(p.Recreates) != 1 {
			t.Errorf("%s: dependents not asked for, yet re-creates %v", what, recreated(p))
		}
	} else if len(p.Recreates) > 0 {
		t.Errorf("%s: method %s, yet re-creates %v", what, p.Method, recreated(p))
	}
	again := map[string]bool{}
	for _, r := range p.Recreates {
		if n, ok := containerIn(g, r.Container.ID); !ok || n.Container.Name != r.Container.Name || again[r.Container.ID] {
			t.Errorf("%s: re-creates %+v, which is no container of the graph or is re-created twice", what, r.Container)
		}
		again[r.Container.ID] = true
	}
	for _, d := range slices.Concat(p.Dependents, p.Breaks) {
		_, ok1 := containerIn(g, d.Container.ID)
		_, ok2 := containerIn(g, d.On.ID)
		if !ok1 || !ok2 {
			t.Errorf("%s: dependent %+v, but it or what it depends on is no container of the graph", what, d)
		}
	}
	for _, b := range p.Breaks {
		if !b.Breaks {
			t.Errorf("%s: %s is said to break, but its dependency does not: %+v", what, b.Container.Name, b)
		}
	}
}

// checkSubject checks that the plan's subject is a node of the graph.
func checkSubject(t *testing.T, g topology.Graph, what string, p *plan.Plan) {
	t.Helper()
	_, c := containerIn(g, p.Subject.ID)
	_, n := networkIn(g, p.Subject.ID)
	_, v := volumeIn(g, p.Subject.ID)
	if !c && !n && !v {
		t.Fatalf("%s: subject %+v is no container, network or volume of the graph", what, p.Subject)
	}
}

// FuzzDecodeRequests decodes raw bodies the way the server does (unknown
// fields refused) into every request type and plans it: neither may
// panic, every refusal wraps a sentinel, and every plan is well formed.
// The fields the server takes from the path are fixed.
func FuzzDecodeRequests(f *testing.F) {
	for _, b := range []string{
		``, `{}`, `null`, `[]`, `{"name":"new1","image":"busybox","cmd":["sleep","1"]}`,
		`{"name":"--privileged","image":"$(reboot)"}`, `{"from":"web","to":"; id","by":"ip"}`,
		`{"from":"web","to":"169.254.169.254"}`, `{"matrix":["web","db","client"]}`, `{"port":1e99}`,
		`{"from":"client","to":"db","alias":"a:b:c"}`, `{"name":"newnet","subnet":"10.50.0.0/24","gateway":"10.50.0.1"}`,
		`{"container":"client","aliases":["A B"],"ip":"10.42.0.9"}`, `{"name":"x:/etc","labels":{"":"\u0000"}}`,
		`{"bind":"/var/run/docker.sock","target":"/s"}`, `{"unknown":1}`, `{"name":"a"}{"name":"b"}`,
		`{"name":"` + strings.Repeat("a", 4096) + `"}`, `{"cmd":null,"aliases":[null]}`,
		// The planner's own fields.
		`{"from":"db","to":"client","alias":"cl2","recreateDependents":false}`, `{"from":"legacy","alias":"olddb"}`,
		`{"volumesFrom":"dind"}`, `{"volume":"hostroot","target":"/h"}`, `{"confirm":"empty"}`, `{"detach":true}`,
		`{"force":true}`, `{"icc":false,"internal":true,"attachable":true,"name":"n2"}`, `{"recreateDependents":null}`,
	} {
		f.Add([]byte(b))
	}
	g := fuzzGraph()
	pl := fuzzPlanner(f)
	f.Fuzz(func(t *testing.T, body []byte) {
		decode := func(v any) bool {
			dec := json.NewDecoder(bytes.NewReader(body))
			dec.DisallowUnknownFields()
			return dec.Decode(v) == nil
		}
		try := func(what string, call planCall) {
			if p := checkPlanned(t, g, what, call); p != nil && p.Action != plan.ActionRun && p.Action != plan.ActionCreateNetwork && p.Action != plan.ActionCreateVolume {
				checkSubject(t, g, what, p)
			}
		}
		var rr plan.RunRequest
		if decode(&rr) {
			try("Run", func() (*plan.Plan, error) { return pl.Run(g, rr) })
		}
		var lr plan.LinkRequest
		if decode(&lr) {
			try("AddLink", func() (*plan.Plan, error) { return pl.AddLink(g, lr) })
		}
		var ur plan.UnlinkRequest
		if decode(&ur) {
			try("RemoveLink", func() (*plan.Plan, error) { return pl.RemoveLink(g, ur) })
		}
		var rp plan.RepairRequest
		if decode(&rp) {
			try("RepairLink", func() (*plan.Plan, error) { return pl.RepairLink(g, rp) })
		}
		var nr plan.NetworkRequest
		if decode(&nr) {
			try("CreateNetwork", func() (*plan.Plan, error) { return pl.CreateNetwork(g, nr) })
		}
		rn := plan.RemoveNetworkRequest{Network: "spare"}
		if decode(&rn) {
			try("RemoveNetwork", func() (*plan.Plan, error) { return pl.RemoveNetwork(g, rn) })
		}
		cr := plan.ConnectRequest{Network: "appnet"}
		if decode(&cr) {
			try("Connect", func() (*plan.Plan, error) { return pl.Connect(g, cr) })
		}
		dr := plan.DisconnectRequest{Network: "appnet"}
		if decode(&dr) {
			try("Disconnect", func() (*plan.Plan, error) { return pl.Disconnect(g, dr) })
		}
		var vr plan.VolumeRequest
		if decode(&vr) {
			try("CreateVolume", func() (*plan.Plan, error) { return pl.CreateVolume(g, vr) })
		}
		rv := plan.RemoveVolumeRequest{Volume: "empty"}
		if decode(&rv) {
			try("RemoveVolume", func() (*plan.Plan, error) { return pl.RemoveVolume(g, rv) })
		}
		mr := plan.MountRequest{Container: "client"}
		if decode(&mr) {
			try("Mount", func() (*plan.Plan, error) { return pl.Mount(g, mr) })
		}
		for _, a := range lifecycle {
			ctr := plan.ContainerRequest{Container: "db"}
			if decode(&ctr) {
				try(a.name, func() (*plan.Plan, error) { return a.call(pl, g, ctr) })
			}
		}
	})
}

// dropsBrokenOnly reports whether a re-create's removed links are the
// container's broken ones, all of them (the engine would refuse a copy
// that kept one), and nothing else.
func dropsBrokenOnly(g topology.Graph, id string, removed []string) bool {
	want := map[string]bool{}
	for _, e := range g.EdgesOf(topology.ContainerNodeID(id)) {
		if e.Kind == topology.EdgeBrokenLink && e.From == topology.ContainerNodeID(id) {
			want[e.Link.Alias] = true
		}
	}
	got := map[string]bool{}
	for _, a := range removed {
		got[a] = true
	}
	return maps.Equal(want, got)
}
