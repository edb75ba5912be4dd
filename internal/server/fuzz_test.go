package server

import (
	"errors"
	"net"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/labstack/echo/v4"

	"github.com/dockmap/dockmap/internal/topology"
)

// Fuzz targets for the probe request's validation, which stays in the
// server (the planner fuzzes the actions: internal/plan). Their seed
// corpus (SEC-12…SEC-17 of research/security-reliability-anchors.md §7.1)
// runs with plain `go test`.

var fuzzNasty = []string{
	"", "a", "-x", ".x", "x/y", "x:y", "../x", "x y", "ümlaut", "\x00", "\n", "web\n", "--privileged",
	"; id", "$(reboot)", "127.0.0.1 -f", "-c 100000", strings.Repeat("h", 300), "169.254.169.254",
	"/", "/etc", "/var/run/docker.sock", "x:/etc", "x:/t:rw", "..", "a:b:c", ":x", "x:", "A B", "bridge",
	"host", "none", "default", "   ", "^", "aaaa", strings.Repeat("a", 64), strings.Repeat("a", 4096),
	"web", "db", "client", "hosty", "sidecar", "api", "link", "data", "remote", "appnet", "newnet",
	"c:web", fid('1'), fid('1')[:12], fid('a'), fid('a')[:4], "n:" + fid('a'), "10.42.0.2", "10.42.0.3",
	"172.17.0.4", "10.42.0.9", "10.50.0.0/24", "10.50.0.1", "10.42.0.0/16", "/srv/share/x", "/mnt/x",
	"/data", "busybox:latest",
}

func fid(c byte) string { return strings.Repeat(string(c), 64) }

// fuzzGraph: default bridge with db (172.17.0.3) and client (172.17.0.4,
// link to db as "link"); appnet (10.42.0.0/24) with web (10.42.0.2, alias
// "api", volume data at /data) and db (10.42.0.3); host and none
// networks; hosty in host mode, sidecar sharing web's stack; volumes data
// (local) and remote (nfs).
func fuzzGraph() topology.Graph {
	return topology.Build(topology.Inventory{
		Networks: []topology.Network{
			{ID: fid('b'), Name: "bridge", Driver: "bridge", Default: true, ICC: true, Subnets: []topology.Subnet{{Subnet: "172.17.0.0/16", Gateway: "172.17.0.1"}}},
			{ID: fid('a'), Name: "appnet", Driver: "bridge", ICC: true, Subnets: []topology.Subnet{{Subnet: "10.42.0.0/24", Gateway: "10.42.0.1"}}},
			{ID: fid('h'), Name: "host", Driver: "host"},
			{ID: fid('0'), Name: "none", Driver: "null"},
		},
		Containers: []topology.Container{
			{ID: fid('1'), Name: "web", Names: []string{"web"}, State: "running", NetworkMode: "appnet",
				Endpoints: []topology.Endpoint{{NetworkID: fid('a'), NetworkName: "appnet", IP: "10.42.0.2", Aliases: []string{"api"}}},
				Mounts:    []topology.Mount{{Type: "volume", Name: "data", Destination: "/data", Driver: "local", RW: true}}},
			{ID: fid('2'), Name: "db", Names: []string{"db", "client/link"}, State: "running", NetworkMode: "bridge",
				Endpoints: []topology.Endpoint{
					{NetworkID: fid('b'), NetworkName: "bridge", IP: "172.17.0.3"},
					{NetworkID: fid('a'), NetworkName: "appnet", IP: "10.42.0.3"}}},
			{ID: fid('3'), Name: "client", Names: []string{"client"}, State: "running", NetworkMode: "bridge",
				Endpoints: []topology.Endpoint{{NetworkID: fid('b'), NetworkName: "bridge", IP: "172.17.0.4"}}},
			{ID: fid('4'), Name: "hosty", Names: []string{"hosty"}, State: "running", NetworkMode: "host"},
			{ID: fid('5'), Name: "sidecar", Names: []string{"sidecar"}, State: "exited", NetworkMode: "container:" + fid('1')},
		},
		Volumes: []topology.Volume{{Name: "data", Driver: "local"}, {Name: "remote", Driver: "nfs"}},
	})
}

func checkSentinel(t *testing.T, what string, err error) {
	t.Helper()
	for _, s := range []error{topology.ErrInvalid, topology.ErrNotFound, topology.ErrConflict} {
		if errors.Is(err, s) {
			return
		}
	}
	t.Errorf("%s = %v, want it to wrap ErrInvalid, ErrNotFound or ErrConflict", what, err)
}

// containerIn reports whether id is the full ID of a container in g, and
// returns it.
func containerIn(g topology.Graph, id string) (topology.Node, bool) {
	n, ok := g.Node(topology.ContainerNodeID(id))
	return n, ok && n.Container != nil && n.Container.ID == id
}

// split turns one fuzzed string into a JSON list field.
func split(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(s, ",")
}

func graphTargets(g topology.Graph) (names, ips map[string]bool) {
	names, ips = map[string]bool{}, map[string]bool{}
	for _, n := range g.Nodes {
		if n.Container != nil {
			names[n.Container.Name] = true
		}
	}
	for _, e := range g.Edges {
		switch {
		case e.Kind == topology.EdgeMember && e.Member != nil:
			if e.Member.IP != "" {
				ips[e.Member.IP] = true
			}
			for _, a := range e.Member.Aliases {
				names[a] = true
			}
		case e.Kind == topology.EdgeLink && e.Link != nil:
			names[e.Link.Alias] = true
		}
	}
	return names, ips
}

func FuzzProbeRequest(f *testing.F) {
	for _, s := range fuzzNasty {
		f.Add(s, "db", "", "", 0, "")
		f.Add("web", s, "", "ip", 80, "")
		f.Add("", "", "web,db,"+s, "both", 0, "")
		f.Add("client", "db", "", "", 0, s)
		f.Add("web", "db", "", s, 0, "")
	}
	f.Add("web", "db", "", "name", -1, "")
	f.Add("web", "db", "", "name", 65536, "")
	f.Add("web", "web", "", "", 0, "api")
	f.Add("db", "web", "", "name", 0, "api")
	f.Add("client", "db", "", "name", 0, "link")
	f.Add("web", "client", "", "ip", 0, "")
	g := fuzzGraph()
	names, ips := graphTargets(g)
	f.Fuzz(func(t *testing.T, from, to, matrix, by string, port int, name string) {
		req := probeRequest{From: from, To: to, Matrix: split(matrix), By: by, Port: port, Name: name}
		reqs, err := req.resolve(g)
		if err != nil {
			checkSentinel(t, "probeRequest.resolve", err)
			return
		}
		if len(reqs) > maxMatrix*(maxMatrix-1)*2 {
			t.Errorf("%d probes accepted", len(reqs))
		}
		for _, p := range reqs {
			fn, ok1 := containerIn(g, p.From)
			tn, ok2 := containerIn(g, p.To)
			if !ok1 || !ok2 || fn.Container.Name != p.FromName || tn.Container.Name != p.ToName || p.From == p.To {
				t.Fatalf("probe %+v accepted, but its ends are not two containers of the graph", p)
			}
			if p.Port < 0 || p.Port > 65535 {
				t.Errorf("probe %+v accepted with port %d", p, p.Port)
			}
			switch p.By {
			case "ip":
				// "" means the target has no address (stopped): nothing runs.
				if p.Target != "" && (!ips[p.Target] || net.ParseIP(p.Target) == nil) {
					t.Errorf("probe target %q by ip is not an IP of the graph", p.Target)
				}
			case "name":
				if !names[p.Target] {
					t.Errorf("probe target %q by name is not a name the graph knows", p.Target)
				}
			default:
				t.Errorf("probe by %q accepted", p.By)
			}
			if strings.HasPrefix(p.Target, "-") || strings.ContainsAny(p.Target, " \t\n;$`|&\x00") {
				t.Errorf("probe target %q could reach a command line as more than one argument", p.Target)
			}
		}
	})
}

func FuzzDecodeProbeRequests(f *testing.F) {
	for _, b := range []string{
		``, `{}`, `null`, `[]`, `{"from":"web","to":"; id","by":"ip"}`,
		`{"from":"web","to":"169.254.169.254"}`, `{"matrix":["web","db","client"]}`, `{"port":1e99}`,
		`{"unknown":1}`, `{"from":"a"}{"from":"b"}`, `{"from":"` + strings.Repeat("a", 4096) + `"}`, `{"matrix":[null]}`,
	} {
		f.Add([]byte(b))
	}
	g := fuzzGraph()
	e := echo.New()
	f.Fuzz(func(t *testing.T, body []byte) {
		c := e.NewContext(httptest.NewRequest("POST", "/", strings.NewReader(string(body))), httptest.NewRecorder())
		var pr probeRequest
		err := decodeJSON(c, &pr)
		if err != nil {
			if !errors.Is(err, topology.ErrInvalid) {
				t.Errorf("decodeJSON(%q) = %v, want it to wrap ErrInvalid", body, err)
			}
			return
		}
		if _, err := pr.resolve(g); err != nil {
			checkSentinel(t, "probeRequest.resolve", err)
		}
	})
}
