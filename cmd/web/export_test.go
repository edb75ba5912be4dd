package main

import (
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/dockmap/dockmap/internal/compose"
	"github.com/dockmap/dockmap/internal/docker"
	"github.com/dockmap/dockmap/internal/dockertest"
)

// TestExportComposeRoundTrip is issue 13's export on the real engine with
// Debian's docker-compose 1.29: a project of web, api and db on two
// networks (front: web+api; back: api+db), with a named volume on db, an
// alias, a published port, env and labels, is exported through the HTTP
// API, taken down, and brought up again from the export under another
// project name. The new containers have the same shape, read from the
// engine's own inspect JSON; the file loads with compose-go and passes
// `docker-compose config`. Bad selections get a 4xx with a reason, and a
// container the file cannot describe (host network, privileged) a note.
func TestExportComposeRoundTrip(t *testing.T) {
	c := dockertest.Client(t)
	img := dockertest.FixtureImage(t)
	base := startDockmap(t, nil)

	project := dockertest.ComposeProject(t, "exp")
	other := dockertest.ComposeProject(t, "other")
	port := freePort(t)
	run := dockertest.RunID()
	dir := t.TempDir()
	orig := filepath.Join(dir, "compose.yaml")
	writeFile(t, orig, fmt.Sprintf(`services:
  web:
    image: %[1]s
    command: ["sleep", "3600"]
    environment: {ROLE: web}
    labels: {%[2]s: "1", %[3]s: %[4]s, tier: front}
    ports: ["127.0.0.1:%[5]d:80"]
    networks:
      front:
        aliases: [www]
  api:
    image: %[1]s
    command: ["sleep", "3600"]
    environment: {ROLE: api, TOKEN: "s3cr$$et"}
    labels: {%[2]s: "1", %[3]s: %[4]s, tier: middle}
    networks: [front, back]
    restart: unless-stopped
  db:
    image: %[1]s
    command: ["sleep", "3600"]
    environment: {ROLE: db}
    labels: {%[2]s: "1", %[3]s: %[4]s}
    volumes: ["data:/data"]
    networks: [back]
networks:
  front: {labels: {%[2]s: "1", %[3]s: %[4]s}}
  back: {labels: {%[2]s: "1", %[3]s: %[4]s}}
volumes:
  data: {labels: {%[2]s: "1", %[3]s: %[4]s}}
`, img, dockertest.Label, dockertest.RunLabel, run, port))

	dockertest.ComposeUpFile(t, project, orig)
	before := projectShape(t, c, project)
	if len(before) != 3 {
		t.Fatalf("project %s has services %v, want web, api and db", project, slices.Sorted(maps.Keys(before)))
	}

	resp, body := httpGet(t, base+"/api/export/compose?project="+url.QueryEscape(project))
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("export: %d %s", resp.StatusCode, body)
	}
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/yaml") {
		t.Errorf("Content-Type %q, want application/yaml", ct)
	}
	if cd := resp.Header.Get("Content-Disposition"); !strings.Contains(cd, `filename="`+project+`-compose.yaml"`) {
		t.Errorf("Content-Disposition %q names no file %s-compose.yaml", cd, project)
	}
	exported := filepath.Join(dir, "exported.yaml")
	writeFile(t, exported, body)
	t.Logf("exported:\n%s", body)
	if _, err := compose.Load(engineCtx(t), []byte(body), other, dir); err != nil {
		t.Errorf("compose-go does not load the export: %v", err)
	}
	if out, err := dockertest.Compose(other, exported, "config", "-q"); err != nil {
		t.Errorf("docker-compose config: %v\n%s", err, out)
	}

	if out, err := dockertest.Compose(project, orig, "down", "-v", "--timeout", "1"); err != nil {
		t.Fatalf("docker-compose down %s: %v\n%s", project, err, out)
	}
	dockertest.ComposeUpFile(t, other, exported)
	after := projectShape(t, c, other)
	if d := cmp.Diff(before, after); d != "" {
		t.Errorf("the re-created project's shape differs (-%s +%s):\n%s", project, other, d)
	}

	// Bad selections: a 4xx with a reason, never a 500.
	for _, bad := range []struct {
		query string
		code  int
	}{
		{"", http.StatusBadRequest},
		{"?containers=", http.StatusBadRequest},
		{"?project=" + project + "-none", http.StatusNotFound},
		{"?containers=no-such-container-" + run, http.StatusNotFound},
		{"?project=" + other + "&containers=x", http.StatusBadRequest},
	} {
		resp, body := httpGet(t, base+"/api/export/compose"+bad.query)
		if resp.StatusCode != bad.code || !strings.Contains(body, "error") {
			t.Errorf("export%s: %d %s, want %d with a reason", bad.query, resp.StatusCode, body, bad.code)
		}
	}

	// What a Compose file cannot carry is said, per service.
	odd := dockertest.ComposeProject(t, "odd")
	oddFile := filepath.Join(dir, "odd.yaml")
	writeFile(t, oddFile, fmt.Sprintf(`services:
  hostnet:
    image: %[1]s
    command: ["sleep", "3600"]
    network_mode: host
    privileged: true
    labels: {%[2]s: "1", %[3]s: %[4]s}
`, img, dockertest.Label, dockertest.RunLabel, run))
	// Created, not started: the engine here may not run privileged
	// containers, and the export reads the configuration alone.
	dockertest.ComposeUpFile(t, odd, oddFile, "--no-start")
	ids, err := c.ContainersLabelled(engineCtx(t), compose.LabelProject, odd)
	if err != nil || len(ids) != 1 {
		t.Fatalf("project %s's containers: %v %v", odd, ids, err)
	}
	resp, body = httpGet(t, base+"/api/export/compose?containers="+ids[0])
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("export of a host-network container: %d %s", resp.StatusCode, body)
	}
	for _, want := range []string{"#   hostnet: network_mode: host", "#   hostnet: privileged is left out", compose.NotesKey + ":"} {
		if !strings.Contains(body, want) {
			t.Errorf("the export does not say %q:\n%s", want, body)
		}
	}
	p, err := compose.Load(engineCtx(t), []byte(body), odd, dir)
	if err != nil {
		t.Fatalf("compose-go does not load the export: %v", err)
	}
	if s := p.Services["hostnet"]; s.Privileged || s.NetworkMode == "host" {
		t.Errorf("the export gives the container the host:\n%s", body)
	}
}

// serviceShape is what the round trip keeps of a container, from the
// engine's inspect JSON: its networks (by their name in the project), each
// with its aliases, its mounts, ports, env, labels and command.
type serviceShape struct {
	Image    string
	Cmd      []string
	Env      []string
	Labels   map[string]string
	Networks map[string][]string
	Mounts   []string
	Ports    map[string][]string
	Restart  string
}

// projectShape reads every container of a Compose project as a
// serviceShape, by service. The project's own prefix is cut from network
// and volume names, and the aliases the engine and Compose make from
// the container's ID are left out.
func projectShape(t *testing.T, c *docker.Client, project string) map[string]serviceShape {
	t.Helper()
	ids, err := c.ContainersLabelled(engineCtx(t), compose.LabelProject, project)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]serviceShape{}
	for _, id := range ids {
		raw, err := c.InspectRaw(engineCtx(t), id)
		if err != nil {
			t.Fatal(err)
		}
		var in struct {
			ID     string
			Config struct {
				Image  string
				Cmd    []string
				Env    []string
				Labels map[string]string
			}
			HostConfig struct {
				PortBindings  map[string][]struct{ HostIP, HostPort string }
				RestartPolicy struct{ Name string }
			}
			NetworkSettings struct {
				Networks map[string]struct{ Aliases []string }
			}
			Mounts []struct {
				Type, Name, Source, Destination string
				RW                              bool
			}
		}
		if err := json.Unmarshal(raw, &in); err != nil {
			t.Fatal(err)
		}
		s := serviceShape{Image: in.Config.Image, Cmd: in.Config.Cmd, Env: slices.Sorted(slices.Values(in.Config.Env)),
			Labels: map[string]string{}, Networks: map[string][]string{}, Ports: map[string][]string{}, Restart: in.HostConfig.RestartPolicy.Name}
		for k, v := range in.Config.Labels {
			if !strings.HasPrefix(k, "com.docker.compose.") {
				s.Labels[k] = v
			}
		}
		prefix := project + "_"
		for n, ep := range in.NetworkSettings.Networks {
			var aliases []string
			for _, a := range ep.Aliases {
				if !strings.HasPrefix(in.ID, a) {
					aliases = append(aliases, a)
				}
			}
			slices.Sort(aliases)
			s.Networks[strings.TrimPrefix(n, prefix)] = aliases
		}
		for _, m := range in.Mounts {
			s.Mounts = append(s.Mounts, fmt.Sprintf("%s %s at %s rw=%v", m.Type, strings.TrimPrefix(m.Name, prefix), m.Destination, m.RW))
		}
		slices.Sort(s.Mounts)
		for p, bs := range in.HostConfig.PortBindings {
			for _, b := range bs {
				s.Ports[p] = append(s.Ports[p], b.HostIP+":"+b.HostPort)
			}
		}
		out[in.Config.Labels[compose.LabelService]] = s
	}
	return out
}

func httpGet(t *testing.T, u string) (*http.Response, string) {
	t.Helper()
	resp, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, string(b)
}

func writeFile(t *testing.T, path, data string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(data), 0o600); err != nil {
		t.Fatal(err)
	}
}

// freePort is a loopback TCP port nothing listens on now.
func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// TestExportComposeLegacyLinks: containers of no Compose project on the
// default bridge, one with a legacy link (`--link db:database`), exported
// by name and brought up by docker-compose 1.29 under a project: the new
// containers are on the default bridge, and the new web links the new db
// as database.
func TestExportComposeLegacyLinks(t *testing.T) {
	c := dockertest.Client(t)
	dockertest.FixtureImage(t)
	base := startDockmap(t, nil)
	dbName, webName := dockertest.UniqueName(t, "db"), dockertest.UniqueName(t, "web")
	dockertest.RunContainer(t, c, dockertest.WithName(dbName))
	dockertest.RunContainer(t, c, dockertest.WithName(webName), dockertest.WithLink(dbName, "database"))

	resp, body := httpGet(t, base+"/api/export/compose?containers="+url.QueryEscape(webName+","+dbName))
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("export: %d %s", resp.StatusCode, body)
	}
	t.Logf("exported:\n%s", body)
	dir := t.TempDir()
	file := filepath.Join(dir, "exported.yaml")
	writeFile(t, file, body)
	project := dockertest.ComposeProject(t, "links")
	dockertest.ComposeUpFile(t, project, file)

	ids, err := c.ContainersLabelled(engineCtx(t), compose.LabelProject, project)
	if err != nil || len(ids) != 2 {
		t.Fatalf("project %s's containers: %v %v", project, ids, err)
	}
	var links []string
	names := map[string]string{}
	for _, id := range ids {
		raw, err := c.InspectRaw(engineCtx(t), id)
		if err != nil {
			t.Fatal(err)
		}
		var in struct {
			Name       string
			Config     struct{ Labels map[string]string }
			HostConfig struct {
				NetworkMode string
				Links       []string
			}
			NetworkSettings struct{ Networks map[string]any }
		}
		if err := json.Unmarshal(raw, &in); err != nil {
			t.Fatal(err)
		}
		svc := in.Config.Labels[compose.LabelService]
		names[svc] = in.Name
		if _, ok := in.NetworkSettings.Networks["bridge"]; !ok || len(in.NetworkSettings.Networks) != 1 {
			t.Errorf("%s is on %v, want the default bridge alone", svc, slices.Sorted(maps.Keys(in.NetworkSettings.Networks)))
		}
		if svc == webName {
			links = in.HostConfig.Links
		}
	}
	want := names[dbName] + ":" + names[webName] + "/database"
	if !slices.Contains(links, want) {
		t.Errorf("the new %s links %v, want %s", webName, links, want)
	}
}
