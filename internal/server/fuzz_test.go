package server

import (
	"errors"
	"net"
	"net/http/httptest"
	"path"
	"regexp"
	"strings"
	"testing"
	"unicode"

	"github.com/labstack/echo/v4"

	"github.com/dockmap/dockmap/internal/topology"
)

// Fuzz targets for the request validators (issue 6): each builds a small
// graph with topology.Build, fuzzes the JSON fields of a request and
// checks that an accepted request only names what the graph has. Their seed
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

func FuzzRunRequest(f *testing.F) {
	for _, s := range fuzzNasty {
		f.Add(s, "busybox:latest", "sleep,1", "")
		f.Add("new1", s, "", "appnet")
		f.Add("new1", "busybox", s, "")
		f.Add("new1", "busybox", "", s)
	}
	g := fuzzGraph()
	f.Fuzz(func(t *testing.T, name, image, cmd, network string) {
		req := runRequest{Name: name, Image: image, Cmd: split(cmd), Network: network}
		spec, err := req.validate(g)
		if err != nil {
			checkSentinel(t, "runRequest.validate", err)
			return
		}
		checkName(t, "container name", spec.Name)
		if _, err := g.ContainerByRef(spec.Name); err == nil {
			t.Errorf("name %q accepted, but a container has it", spec.Name)
		}
		if err := topology.ValidateImageRef(spec.Image); err != nil || strings.ContainsAny(spec.Image, " \t\n;$") {
			t.Errorf("image %q accepted: %v", spec.Image, err)
		}
		if len(spec.Cmd) > maxCmdArgs {
			t.Errorf("%d command arguments accepted", len(spec.Cmd))
		}
		if spec.Network != "" {
			n, ok := g.Node(topology.NetworkNodeID(spec.Network))
			if !ok || n.Network == nil || n.Network.Driver != "bridge" {
				t.Errorf("network %q accepted as %q, which is no bridge network of the graph", network, spec.Network)
			}
		}
	})
}

// graphNames are every name a probe may target: container names and the
// aliases the graph knows.
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

func FuzzValidateLink(f *testing.F) {
	for _, s := range fuzzNasty {
		f.Add(s, "db", "db2")
		f.Add("web", s, "db2")
		f.Add("web", "db", s)
	}
	f.Add("client", "db", "link")
	f.Add("hosty", "db", "x1")
	f.Add("sidecar", "db", "x1")
	g := fuzzGraph()
	f.Fuzz(func(t *testing.T, fromRef, toRef, alias string) {
		from, to, err := validateLink(g, fromRef, toRef, alias)
		if err != nil {
			checkSentinel(t, "validateLink", err)
			return
		}
		_, ok1 := containerIn(g, from.Container.ID)
		_, ok2 := containerIn(g, to.Container.ID)
		if !ok1 || !ok2 || from.ID == to.ID {
			t.Fatalf("link %q → %q accepted, but its ends are not two containers of the graph", fromRef, toRef)
		}
		checkName(t, "link alias", alias)
		if m := from.Container.NetworkMode; m == "host" || m == "none" || strings.HasPrefix(m, "container:") {
			t.Errorf("link from %s accepted in network mode %q", from.Container.Name, m)
		}
	})
}

func FuzzNetworkRequest(f *testing.F) {
	for _, s := range fuzzNasty {
		f.Add(s, "", "")
		f.Add("newnet", s, "")
		f.Add("newnet", "10.50.0.0/24", s)
	}
	f.Add("newnet", "", "10.50.0.1")
	f.Add("newnet", "10.42.0.0/16", "10.42.0.1")
	g := fuzzGraph()
	f.Fuzz(func(t *testing.T, name, subnet, gateway string) {
		spec, err := networkRequest{Name: name, Subnet: subnet, Gateway: gateway}.validate(g)
		if err != nil {
			checkSentinel(t, "networkRequest.validate", err)
			return
		}
		checkName(t, "network name", spec.Name)
		if topology.IsReservedNetworkName(spec.Name) {
			t.Errorf("network name %q accepted, but it is predefined", spec.Name)
		}
		if _, err := g.NetworkByRef(spec.Name); err == nil {
			t.Errorf("network name %q accepted, but a network has it", spec.Name)
		}
		if spec.Subnet == "" {
			if spec.Gateway != "" {
				t.Errorf("gateway %q accepted without a subnet", spec.Gateway)
			}
			return
		}
		ip, ipn, err := net.ParseCIDR(spec.Subnet)
		if err != nil || ip.To4() == nil {
			t.Fatalf("subnet %q accepted as %q, which is no IPv4 CIDR: %v", subnet, spec.Subnet, err)
		}
		if spec.Gateway != "" {
			gw := net.ParseIP(spec.Gateway)
			if gw == nil || gw.To4() == nil || !ipn.Contains(gw) || gw.Equal(ipn.IP) {
				t.Errorf("gateway %q accepted, but it is no usable IPv4 address of %s", spec.Gateway, ipn)
			}
		}
	})
}

func FuzzValidateConnect(f *testing.F) {
	for _, s := range fuzzNasty {
		f.Add(s, "client", "", "")
		f.Add("appnet", s, "", "")
		f.Add("appnet", "client", s, "")
		f.Add("appnet", "client", "", s)
	}
	f.Add("n:"+fid('a'), "client", "c1,c2", "10.42.0.9")
	f.Add("appnet", "web", "api", "10.42.0.2")
	f.Add("bridge", "web", "", "")
	f.Add("host", "client", "", "")
	g := fuzzGraph()
	f.Fuzz(func(t *testing.T, netRef, container, aliases, ip string) {
		req := connectRequest{Container: container, Aliases: split(aliases), IP: ip}
		n, ct, err := validateConnect(g, netRef, req)
		if err != nil {
			checkSentinel(t, "validateConnect", err)
			return
		}
		if got, ok := g.Node(n.ID); !ok || got.Network == nil || got.Network.Driver != "bridge" {
			t.Fatalf("network %q accepted as %s, which is no bridge network of the graph", netRef, n.ID)
		}
		if _, ok := containerIn(g, ct.Container.ID); !ok {
			t.Fatalf("container %q accepted, but it is not in the graph", container)
		}
		if len(req.Aliases) > topology.MaxAliases {
			t.Errorf("%d aliases accepted", len(req.Aliases))
		}
		for _, a := range req.Aliases {
			checkName(t, "alias", a)
		}
		if ip != "" {
			a := net.ParseIP(ip)
			inside := false
			for _, s := range n.Network.Subnets {
				if _, ipn, err := net.ParseCIDR(s.Subnet); err == nil && a != nil && ipn.Contains(a) {
					inside = true
				}
			}
			if a == nil || a.To4() == nil || !inside {
				t.Errorf("static IP %q accepted, but it is outside every subnet of %s", ip, n.Network.Name)
			}
		}
	})
}

func FuzzVolumeRequest(f *testing.F) {
	for _, s := range fuzzNasty {
		f.Add(s, "", "")
		f.Add("newvol", s, "v")
		f.Add("newvol", "k", s)
	}
	g := fuzzGraph()
	f.Fuzz(func(t *testing.T, name, key, value string) {
		req := volumeRequest{Name: name}
		if key != "" || value != "" {
			req.Labels = map[string]string{key: value}
		}
		if err := req.validate(g); err != nil {
			checkSentinel(t, "volumeRequest.validate", err)
			return
		}
		checkName(t, "volume name", name)
		if strings.Contains(name, "..") {
			t.Errorf("volume name %q accepted, but it holds \"..\"", name)
		}
		if _, ok := g.Node(topology.VolumeNodeID(name)); ok {
			t.Errorf("volume name %q accepted, but a volume has it", name)
		}
		for k, v := range req.Labels {
			if k == "" || strings.ContainsRune(k+v, 0) {
				t.Errorf("label %q=%q accepted", k, v)
			}
		}
	})
}

func FuzzMountRequest(f *testing.F) {
	for _, s := range fuzzNasty {
		f.Add(s, "data", "", "", "/mnt/x")
		f.Add("client", s, "", "", "/mnt/x")
		f.Add("client", "", s, "", "")
		f.Add("client", "", "", s, "/mnt/x")
		f.Add("client", "data", "", "", s)
	}
	f.Add("client", "", "", "/srv/share/../../var/run/docker.sock", "/s")
	f.Add("client", "", "", "/srv/share/./x/", "/mnt/x")
	f.Add("client", "remote", "", "", "/mnt/x")
	f.Add("web", "data", "", "", "/data")
	f.Add("client", "", "web", "", "")
	g := fuzzGraph()
	allow, err := topology.ValidateBindPrefixes([]string{"/srv/share/"})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, ref, volume, volumesFrom, bind, target string) {
		req := mountRequest{Volume: volume, VolumesFrom: volumesFrom, Bind: bind, Target: target}
		ct, ch, _, err := req.plan(g, ref, allow)
		if err != nil {
			checkSentinel(t, "mountRequest.plan", err)
			return
		}
		if _, ok := containerIn(g, ct.Container.ID); !ok {
			t.Fatalf("container %q accepted, but it is not in the graph", ref)
		}
		if got := len(ch.AddMounts) + len(ch.AddVolumesFrom); got != 1 || len(ch.AddLinks)+len(ch.RemoveLinks) != 0 {
			t.Errorf("change %+v accepted, want exactly one mount or volumes-from", ch)
		}
		for _, d := range ch.AddVolumesFrom {
			if _, ok := containerIn(g, strings.TrimSuffix(d, ":ro")); !ok || d == ct.Container.ID {
				t.Errorf("volumes-from %q accepted, but it is not another container of the graph", d)
			}
		}
		for _, m := range ch.AddMounts {
			if !path.IsAbs(m.Target) || path.Clean(m.Target) != m.Target || m.Target == "/" || strings.ContainsAny(m.Target, ":\x00") {
				t.Errorf("mount target %q accepted", m.Target)
			}
			switch m.Type {
			case "volume":
				v, ok := g.Node(topology.VolumeNodeID(m.Source))
				if !ok || v.Volume == nil || v.Volume.Driver != "local" {
					t.Errorf("volume %q accepted, but it is no local volume of the graph", m.Source)
				}
			case "bind":
				if m.Source != allow[0] && !strings.HasPrefix(m.Source, allow[0]+"/") ||
					path.Clean(m.Source) != m.Source || strings.ContainsAny(m.Source, ":\x00") {
					t.Errorf("bind source %q accepted, but it is not a clean path under %s", m.Source, allow[0])
				}
			default:
				t.Errorf("mount type %q accepted", m.Type)
			}
		}
	})
}

// FuzzDecodeRequests feeds raw bodies through decodeJSON into every
// request type and on to its validator: neither may panic, and every
// refusal wraps a sentinel.
func FuzzDecodeRequests(f *testing.F) {
	for _, b := range []string{
		``, `{}`, `null`, `[]`, `{"name":"new1","image":"busybox","cmd":["sleep","1"]}`,
		`{"name":"--privileged","image":"$(reboot)"}`, `{"from":"web","to":"; id","by":"ip"}`,
		`{"from":"web","to":"169.254.169.254"}`, `{"matrix":["web","db","client"]}`, `{"port":1e99}`,
		`{"from":"client","to":"db","alias":"a:b:c"}`, `{"name":"newnet","subnet":"10.50.0.0/24","gateway":"10.50.0.1"}`,
		`{"container":"client","aliases":["A B"],"ip":"10.42.0.9"}`, `{"name":"x:/etc","labels":{"":"\u0000"}}`,
		`{"bind":"/var/run/docker.sock","target":"/s"}`, `{"unknown":1}`, `{"name":"a"}{"name":"b"}`,
		`{"name":"` + strings.Repeat("a", 4096) + `"}`, `{"cmd":null,"aliases":[null]}`,
	} {
		f.Add([]byte(b))
	}
	g := fuzzGraph()
	e := echo.New()
	f.Fuzz(func(t *testing.T, body []byte) {
		decode := func(v any) bool {
			c := e.NewContext(httptest.NewRequest("POST", "/", strings.NewReader(string(body))), httptest.NewRecorder())
			err := decodeJSON(c, v)
			if err != nil && !errors.Is(err, topology.ErrInvalid) {
				t.Errorf("decodeJSON(%q) = %v, want it to wrap ErrInvalid", body, err)
			}
			return err == nil
		}
		check := func(what string, err error) {
			if err != nil {
				checkSentinel(t, what, err)
			}
		}
		var rr runRequest
		if decode(&rr) {
			_, err := rr.validate(g)
			check("runRequest.validate", err)
		}
		var pr probeRequest
		if decode(&pr) {
			_, err := pr.resolve(g)
			check("probeRequest.resolve", err)
		}
		var lr linkRequest
		if decode(&lr) {
			_, _, err := validateLink(g, lr.From, lr.To, lr.Alias)
			check("validateLink", err)
		}
		var nr networkRequest
		if decode(&nr) {
			_, err := nr.validate(g)
			check("networkRequest.validate", err)
		}
		var cr connectRequest
		if decode(&cr) {
			_, _, err := validateConnect(g, "appnet", cr)
			check("validateConnect", err)
		}
		var vr volumeRequest
		if decode(&vr) {
			check("volumeRequest.validate", vr.validate(g))
		}
		var mr mountRequest
		if decode(&mr) {
			_, _, _, err := mr.plan(g, "client", []string{"/srv/share"})
			check("mountRequest.plan", err)
		}
	})
}
