package compose_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/compose-spec/compose-go/v2/types"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/dockmap/dockmap/internal/compose"
)

const webID = "aaaaaaaaaaaa0000000000000000000000000000000000000000000000000001"
const apiID = "bbbbbbbbbbbb0000000000000000000000000000000000000000000000000002"

func base() compose.Selection {
	img := compose.Image{Cmd: []string{"sh"}, Env: []string{"PATH=/bin"}, Labels: map[string]string{"org.image": "1"}}
	return compose.Selection{
		Project: "shop",
		Containers: []compose.Container{
			{
				ID: webID, Name: "shop_web_1", Image: "fixture", ImageSpec: img, Cmd: []string{"sleep", "3600"},
				Env:       []string{"PATH=/bin", "MODE=a$b"},
				Labels:    map[string]string{"org.image": "1", "team": "x", compose.LabelProject: "shop", compose.LabelService: "web"},
				Endpoints: []compose.Endpoint{{Network: "shop_front", Aliases: []string{"web", webID[:12], "www"}}},
				Ports:     []compose.Port{{Target: 80, Protocol: "tcp", HostPort: "8080"}, {Target: 53, Protocol: "udp", HostIP: "127.0.0.1"}},
			},
			{
				ID: apiID, Name: "api", Image: "fixture", ImageSpec: img, Cmd: []string{"sh"},
				Endpoints: []compose.Endpoint{{Network: "shop_front", Aliases: []string{apiID[:12]}}, {Network: "shared"}},
				Mounts:    []compose.Mount{{Type: "volume", Source: "shop_data", Target: "/data"}},
				Links:     []compose.Link{{Target: "shop_web_1", Alias: "w"}},
				Restart:   "on-failure:3",
				Labels:    map[string]string{compose.LabelDependsOn: "web:service_started:false"},
			},
		},
		Networks: map[string]compose.Network{
			"shop_front": {Name: "shop_front", Driver: "bridge", Labels: map[string]string{compose.LabelProject: "shop", compose.LabelNetwork: "front"}, Members: []string{webID, apiID}},
			"shared":     {Name: "shared", Driver: "bridge", Members: []string{apiID, "other"}},
		},
		Volumes: map[string]compose.Volume{
			"shop_data": {Name: "shop_data", Driver: "local", Labels: map[string]string{compose.LabelProject: "shop", compose.LabelVolume: "data"}, Users: []string{apiID}},
		},
	}
}

func TestComposeBuild(t *testing.T) {
	p, notes, err := compose.Build(base())
	if err != nil {
		t.Fatal(err)
	}
	if len(notes) != 0 {
		t.Errorf("notes = %v, want none", notes)
	}
	web, api := p.Services["web"], p.Services["api"]
	for _, c := range []struct {
		what      string
		got, want any
	}{
		{"web's command", []string(web.Command), []string{"sleep", "3600"}},
		{"api's command (the image's)", []string(api.Command), []string(nil)},
		{"web's env, minus the image's", web.Environment, types.MappingWithEquals{"MODE": ptr("a$b")}},
		{"web's labels, minus compose's and the image's", web.Labels, types.Labels{"team": "x"}},
		{"web's aliases, minus its short ID and service name", web.Networks["front"], &types.ServiceNetworkConfig{Aliases: []string{"www"}}},
		{"api on front with no alias", api.Networks["front"], (*types.ServiceNetworkConfig)(nil)},
		{"the shared network is external", p.Networks["shared"], types.NetworkConfig{Name: "shared", External: true}},
		{"front is the project's own", p.Networks["front"], types.NetworkConfig{}},
		{"the volume by its compose key", api.Volumes, []types.ServiceVolumeConfig{{Type: "volume", Source: "data", Target: "/data"}}},
		{"data declared", p.Volumes["data"], types.VolumeConfig{}},
		{"ports", web.Ports, []types.ServicePortConfig{{Target: 53, HostIP: "127.0.0.1", Protocol: "udp"}, {Target: 80, Published: "8080", Protocol: "tcp"}}},
		{"link to a service", api.Links, []string{"web:w"}},
		{"restart", api.Restart, "on-failure:3"},
		{"depends_on from Compose's label", api.DependsOn, types.DependsOnConfig{"web": {Condition: "service_started", Required: true}}},
	} {
		if d := cmp.Diff(c.want, c.got); d != "" {
			t.Errorf("%s (-want +got):\n%s", c.what, d)
		}
	}
	if _, ok := p.Networks["shop_front"]; ok {
		t.Errorf("the project's network is declared by its engine name too: %v", p.Networks)
	}
}

func TestComposeNotes(t *testing.T) {
	for _, tc := range []struct {
		name   string
		change func(*compose.Container)
		note   string
		mode   string
	}{
		{"host network", func(c *compose.Container) { c.NetworkMode = "host"; c.Endpoints = nil }, "network_mode: host", ""},
		{"container network", func(c *compose.Container) { c.NetworkMode = "container:" + webID; c.Endpoints = nil }, "another container's network stack", ""},
		{"privileged", func(c *compose.Container) { c.Privileged = true }, "privileged is left out", ""},
		{"host pid", func(c *compose.Container) { c.PIDHost = true }, "pid: host", ""},
		{"devices", func(c *compose.Container) { c.Devices = []string{"/dev/fuse"} }, "/dev/fuse", ""},
		{"default bridge alone", func(c *compose.Container) {
			c.NetworkMode = "default"
			c.Endpoints = []compose.Endpoint{{Network: "bridge"}}
		}, "", "bridge"},
		{"none", func(c *compose.Container) { c.NetworkMode = "none"; c.Endpoints = nil }, "", "none"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sel := base()
			tc.change(&sel.Containers[1])
			p, notes, err := compose.Build(sel)
			if err != nil {
				t.Fatal(err)
			}
			got := strings.Join(notes["api"], "\n")
			if tc.note == "" && got != "" || !strings.Contains(got, tc.note) {
				t.Errorf("api's notes = %q, want one saying %q", got, tc.note)
			}
			if m := p.Services["api"].NetworkMode; m != tc.mode {
				t.Errorf("network_mode = %q, want %q", m, tc.mode)
			}
			data := roundTrip(t, p, notes)
			if tc.note != "" && !strings.Contains(string(data), "#   api: ") {
				t.Errorf("the file's head does not list the note:\n%s", data)
			}
		})
	}
}

func TestComposeOwnership(t *testing.T) {
	sel := base()
	// A network of no project that only the set is on is the set's own;
	// another project's network and volume are external.
	sel.Networks["shared"] = compose.Network{Name: "shared", Driver: "bridge", Options: map[string]string{"com.docker.network.bridge.enable_icc": "false"}, Members: []string{apiID}}
	sel.Volumes["shop_data"] = compose.Volume{Name: "shop_data", Labels: map[string]string{compose.LabelProject: "other", compose.LabelVolume: "data"}}
	p, _, err := compose.Build(sel)
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(types.NetworkConfig{DriverOpts: types.Options{"com.docker.network.bridge.enable_icc": "false"}}, p.Networks["shared"]); d != "" {
		t.Errorf("shared (-want +got):\n%s", d)
	}
	if d := cmp.Diff(types.VolumeConfig{Name: "shop_data", External: true}, p.Volumes["shop_data"]); d != "" {
		t.Errorf("another project's volume (-want +got):\n%s", d)
	}
	roundTrip(t, p, nil)
}

// A project label Compose would refuse as a name still gives a file.
func TestComposeProjectName(t *testing.T) {
	sel := base()
	sel.Project = "Shop.App"
	for i := range sel.Containers {
		sel.Containers[i].Labels = map[string]string{compose.LabelProject: "Shop.App"}
	}
	p, notes, err := compose.Build(sel)
	if err != nil {
		t.Fatal(err)
	}
	if p.Name != "shopapp" {
		t.Errorf("name %q, want shopapp", p.Name)
	}
	roundTrip(t, p, notes)
}

// Links to a container of the export name its service; to any other, the
// container, as an external link.
func TestComposeLinks(t *testing.T) {
	sel := base()
	sel.Containers[1].Links = append(sel.Containers[1].Links, compose.Link{Target: "elsewhere", Alias: "db"}, compose.Link{Target: "shop_web_1", Alias: "shop_web_1"})
	p, notes, err := compose.Build(sel)
	if err != nil {
		t.Fatal(err)
	}
	api := p.Services["api"]
	if d := cmp.Diff([]string{"web:w"}, api.Links); d != "" {
		t.Errorf("links (-want +got):\n%s", d)
	}
	if d := cmp.Diff([]string{"elsewhere:db"}, api.ExternalLinks); d != "" {
		t.Errorf("external links (-want +got):\n%s", d)
	}
	roundTrip(t, p, notes)
}

// A static address keeps its network's subnet, which Compose needs to
// give it; a network with no static address gets the engine's choice.
func TestComposeStaticAddress(t *testing.T) {
	sel := base()
	sel.Containers[0].Endpoints[0].IPv4 = "10.77.0.10"
	nw := sel.Networks["shop_front"]
	nw.Subnets = []compose.Subnet{{Subnet: "10.77.0.0/24", Gateway: "10.77.0.1"}}
	sel.Networks["shop_front"] = nw
	p, notes, err := compose.Build(sel)
	if err != nil {
		t.Fatal(err)
	}
	if got := p.Services["web"].Networks["front"].Ipv4Address; got != "10.77.0.10" {
		t.Errorf("ipv4_address %q, want 10.77.0.10", got)
	}
	if d := cmp.Diff([]*types.IPAMPool{{Subnet: "10.77.0.0/24", Gateway: "10.77.0.1"}}, p.Networks["front"].Ipam.Config); d != "" {
		t.Errorf("front's subnets (-want +got):\n%s", d)
	}
	roundTrip(t, p, notes)
}

func TestComposeMarshalLoads(t *testing.T) {
	p, notes, err := compose.Build(base())
	if err != nil {
		t.Fatal(err)
	}
	roundTrip(t, p, notes)
}

// roundTrip writes p, loads it back with compose-go and checks it with
// docker-compose 1.29's config; it returns the file.
func roundTrip(t *testing.T, p *types.Project, notes compose.Notes) []byte {
	t.Helper()
	data, err := compose.Marshal(p, notes)
	if err != nil {
		t.Fatal(err)
	}
	back, err := compose.Load(context.Background(), data, p.Name, t.TempDir())
	if err != nil {
		t.Fatalf("%v\n%s", err, data)
	}
	got, want := back.ServiceNames(), p.ServiceNames()
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("services loaded back = %v, want %v", got, want)
	}
	for name, s := range p.Services {
		if d := cmp.Diff(s.Environment, back.Services[name].Environment, cmpopts.EquateEmpty()); d != "" {
			t.Errorf("%s's env loaded back (-want +got):\n%s", name, d)
		}
		if d := cmp.Diff(s.Ports, back.Services[name].Ports, cmpopts.EquateEmpty(), cmpopts.IgnoreFields(types.ServicePortConfig{}, "Mode")); d != "" {
			t.Errorf("%s's ports loaded back (-want +got):\n%s", name, d)
		}
	}
	CheckWithDockerCompose(t, data)
	return data
}

// CheckWithDockerCompose runs `docker-compose config` on data: Debian's
// docker-compose 1.29 must read the file too.
func CheckWithDockerCompose(t *testing.T, data []byte) {
	t.Helper()
	bin, err := exec.LookPath("docker-compose")
	if err != nil {
		t.Fatalf("docker-compose is needed (apt-get install docker-compose): %v", err)
	}
	dir := t.TempDir()
	f := filepath.Join(dir, "export.yaml")
	if err := os.WriteFile(f, data, 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "-p", "dockmapcheck", "-f", f, "config", "-q")
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("docker-compose config: %v\n%s\nfile:\n%s", err, out, data)
	}
}

func ptr(s string) *string { return &s }
