package server

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/labstack/echo/v4"
)

// seen is what an engine's server got.
type seen struct {
	path, query, body string
}

// recorder stands for an engine's own server: the rule under test is
// which one a request reaches and with which names, not what it does.
func recorder(got *[]seen, name string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		*got = append(*got, seen{path: name + " " + r.URL.Path, query: r.URL.RawQuery, body: string(b)})
		w.WriteHeader(http.StatusNoContent)
	})
}

// A request goes to the engine its IDs name, with the names as that
// engine knows them (path, query and JSON body alike); one naming no
// engine's object goes to the default engine's server; ?engine= picks
// one for something new; two engines in one request, or an unknown
// engine, are refused and reach nobody; the map's own reads and Swarm
// actions stay on the merged map.
func TestDispatch(t *testing.T) {
	const id1 = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	const id2 = "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
	for _, c := range []struct {
		name, method, target, body string
		want                       []seen
		status                     int
	}{
		{name: "a lab container's stop", method: "POST", target: "/api/containers/" + id1 + "@lab1/stop",
			want: []seen{{path: "lab1 /api/containers/" + id1 + "/stop"}}},
		{name: "a link on lab2, in the body", method: "POST", target: "/api/links", body: `{"from":"` + id1 + `@lab2","to":"db","alias":"db","n":1.5}`,
			want: []seen{{path: "lab2 /api/links", body: `{"alias":"db","from":"` + id1 + `","n":1.5,"to":"db"}`}}},
		{name: "a plan in the query", method: "GET", target: "/api/plan/connect?network=net&container=" + id2 + "@lab1",
			want: []seen{{path: "lab1 /api/plan/connect", query: "container=" + id2 + "&network=net"}}},
		{name: "a lab container's logs", method: "GET", target: "/api/containers/" + id1 + "@lab1/logs?follow=1&since=10m",
			want: []seen{{path: "lab1 /api/containers/" + id1 + "/logs", query: "follow=1&since=10m"}}},
		{name: "a new container on lab2", method: "POST", target: "/api/containers?engine=lab2", body: `{"name":"web"}`,
			want: []seen{{path: "lab2 /api/containers", body: `{"name":"web"}`}}},
		{name: "the default engine's container", method: "POST", target: "/api/containers/" + id1 + "/start",
			want: []seen{{path: "local /api/containers/" + id1 + "/start"}}},
		{name: "two engines", method: "POST", target: "/api/links", body: `{"from":"` + id1 + `@lab1","to":"` + id2 + `@lab2"}`, status: http.StatusBadRequest},
		{name: "an unknown engine", method: "POST", target: "/api/containers?engine=nope", body: `{}`, status: http.StatusBadRequest},
		{name: "the default engine named with another's container", method: "POST", target: "/api/containers/" + id1 + "@lab1/stop?engine=local", status: http.StatusBadRequest},
		{name: "a panel stays on the merged map", method: "GET", target: "/panel/container/" + id1 + "@lab1", status: http.StatusTeapot},
		{name: "a probe is planned on the merged map", method: "POST", target: "/api/probes", body: `{"from":"` + id1 + `@lab1"}`, status: http.StatusTeapot},
		{name: "a Swarm action too", method: "POST", target: "/api/services/s1/scale", body: `{"replicas":2}`, status: http.StatusTeapot},
	} {
		t.Run(c.name, func(t *testing.T) {
			var got []seen
			others := map[string]http.Handler{"local": recorder(&got, "local"), "lab1": recorder(&got, "lab1"), "lab2": recorder(&got, "lab2")}
			e := echo.New()
			e.Use(dispatch(others, stubLive{}))
			merged := func(c echo.Context) error { return c.NoContent(http.StatusTeapot) }
			e.Any("/*", merged)
			req := httptest.NewRequest(c.method, c.target, strings.NewReader(c.body))
			req.Header.Set("Content-Type", "application/json")
			rec := httptest.NewRecorder()
			e.ServeHTTP(rec, req)
			want := c.status
			if want == 0 {
				want = http.StatusNoContent
			}
			if rec.Code != want {
				t.Fatalf("status %d (%s), want %d", rec.Code, rec.Body, want)
			}
			if len(got) != len(c.want) {
				t.Fatalf("engines' servers got %+v, want %+v", got, c.want)
			}
			for i := range got {
				if got[i] != c.want[i] {
					t.Errorf("got %+v, want %+v", got[i], c.want[i])
				}
			}
		})
	}
}
