package main

import (
	"fmt"
	"io"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/gorilla/websocket"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/dockmap/dockmap/internal/dockertest"
)

// scrape reads GET /metrics with token ("" for none): its status and text.
func scrape(t *testing.T, base, token string) (int, string) {
	t.Helper()
	req, err := http.NewRequest("GET", base+"/metrics", nil)
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// metricValue is the value of the sample whose name and labels start
// with series (e.g. `dockmap_probes_total{by="ip",result="ok"}`, or
// `dockmap_deltas_published_total ` for one with no label), 0 when there
// is none. The text is read with Prometheus's own text parser (expfmt,
// client_golang's), so a scrape it cannot read fails the test.
func metricValue(t *testing.T, text, series string) float64 {
	t.Helper()
	for _, line := range parsedSeries(t, text) {
		if strings.HasPrefix(line.name, series) {
			return line.value
		}
	}
	return 0
}

type sample struct {
	name  string
	value float64
}

// parsedSeries reads a scrape with expfmt and lists its samples as
// `name{label="value",…} ` (labels sorted, as the text format writes
// them); a histogram gives its _count and _sum.
func parsedSeries(t *testing.T, text string) []sample {
	t.Helper()
	parser := expfmt.NewTextParser(model.UTF8Validation)
	families, err := parser.TextToMetricFamilies(strings.NewReader(text))
	if err != nil {
		t.Fatalf("the scrape does not parse: %v", err)
	}
	var out []sample
	for name, f := range families {
		for _, m := range f.GetMetric() {
			var labels []string
			for _, l := range m.GetLabel() {
				labels = append(labels, fmt.Sprintf("%s=%q", l.GetName(), l.GetValue()))
			}
			slices.Sort(labels)
			suffix := " "
			if len(labels) > 0 {
				suffix = "{" + strings.Join(labels, ",") + "}"
			}
			switch {
			case m.GetHistogram() != nil:
				out = append(out, sample{name + "_count" + suffix, float64(m.GetHistogram().GetSampleCount())},
					sample{name + "_sum" + suffix, m.GetHistogram().GetSampleSum()})
			case m.GetCounter() != nil:
				out = append(out, sample{name + suffix, m.GetCounter().GetValue()})
			case m.GetGauge() != nil:
				out = append(out, sample{name + suffix, m.GetGauge().GetValue()})
			case m.GetUntyped() != nil:
				out = append(out, sample{name + suffix, m.GetUntyped().GetValue()})
			}
		}
	}
	return out
}

// TestMetrics: GET /metrics needs a viewer's credential, and counts what
// happened, named dockmap_… with no container ID in it: a WebSocket
// client, the engine connected, events and re-lists of the local engine,
// deltas, a probe by result, HTTP requests by route pattern and code.
// With --metrics-public a scraper needs no token.
func TestMetrics(t *testing.T) {
	c := dockertest.Client(t)
	base, _, _ := launch(t, nil, nil, "--addr", "127.0.0.1:0", "--operator-token", opToken, "--viewer-token", viewToken)
	if st, _ := scrape(t, base, ""); st != http.StatusUnauthorized {
		t.Errorf("GET /metrics without a credential: HTTP %d, want 401", st)
	}
	ws, _, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(base, "http")+"/live",
		http.Header{"Origin": {base}, "Authorization": {"Bearer " + viewToken}})
	if err != nil {
		t.Fatalf("dial /live: %v", err)
	}
	defer ws.Close()
	a := dockertest.RunContainer(t, c)
	b := dockertest.RunContainer(t, c)
	// On the map with an address each: a probe of a container the map
	// shows with no IP yet is refused ("" is not an address).
	var g struct {
		Edges []struct {
			From   string
			Member *struct{ IP string }
		}
	}
	waitUntil(t, "both containers on the map with their addresses", func() (bool, string) {
		apiAs(t, base, "GET", "/api/graph", nil, &g)
		n := 0
		for _, e := range g.Edges {
			if (e.From == "c:"+a || e.From == "c:"+b) && e.Member != nil && e.Member.IP != "" {
				n++
			}
		}
		return n == 2, fmt.Sprintf("%d of 2", n)
	})
	probeAs(t, base, a, b, "ip")

	var text string
	waitUntil(t, "the metrics to count it all", func() (bool, string) {
		var st int
		st, text = scrape(t, base, viewToken)
		ok := st == http.StatusOK &&
			metricValue(t, text, "dockmap_websocket_clients ") >= 1 &&
			metricValue(t, text, `dockmap_engine_connected{engine="local"}`) == 1 &&
			metricValue(t, text, `dockmap_engine_events_total{engine="local",type="container"}`) >= 2 &&
			metricValue(t, text, `dockmap_relists_total{engine="local",result="ok"}`) >= 1 &&
			metricValue(t, text, `dockmap_relist_duration_seconds_count{engine="local"}`) >= 1 &&
			metricValue(t, text, "dockmap_deltas_published_total ") >= 1 &&
			metricValue(t, text, `dockmap_probes_total{by="ip",result="ok"}`) >= 1 &&
			metricValue(t, text, `dockmap_http_requests_total{code="200",method="POST",route="/api/probes"}`) >= 1 &&
			metricValue(t, text, `dockmap_http_requests_total{code="200",method="GET",route="/api/graph"}`) >= 1
		return ok, text
	})
	for _, id := range []string{a, b, a[:12]} {
		if strings.Contains(text, id) {
			t.Errorf("the metrics carry container ID %s", id)
		}
	}
	if m := regexp.MustCompile(`(?m)^[a-z_]+`).FindAllString(text, -1); len(m) == 0 {
		t.Fatal("no metric at all")
	}
	for _, line := range strings.Split(text, "\n") {
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if !strings.HasPrefix(line, "dockmap_") && !strings.HasPrefix(line, "go_") && !strings.HasPrefix(line, "process_") && !strings.HasPrefix(line, "promhttp_") {
			t.Errorf("a metric outside dockmap_, go_ and process_: %s", line)
		}
	}

	open, _, _ := launch(t, nil, nil, "--addr", "127.0.0.1:0", "--operator-token", opToken, "--metrics-public")
	if st, text := scrape(t, open, ""); st != http.StatusOK || !strings.Contains(text, "dockmap_websocket_clients") {
		t.Errorf("GET /metrics with --metrics-public and no credential: HTTP %d", st)
	}
}
