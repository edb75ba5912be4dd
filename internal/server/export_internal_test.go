package server

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/labstack/echo/v4"

	"github.com/dockmap/dockmap/internal/auth"
)

// A Compose file carries env values, passwords included: an operator's.
func TestExportRole(t *testing.T) {
	for _, r := range RouteTable() {
		if r.Path == exportPath {
			if r.Method != http.MethodGet || r.Role != auth.Operator {
				t.Errorf("%s %s is %v's, want a GET of operators", r.Method, r.Path, r.Role)
			}
			return
		}
	}
	t.Errorf("no route %s", exportPath)
}

// An export of containers goes to the engine they are on, each ID of the
// list without its engine's name; containers of two engines in one export
// are refused and reach no engine.
func TestExportDispatch(t *testing.T) {
	const id1 = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	const id2 = "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
	for _, c := range []struct {
		name, target string
		status       int
		want         string
	}{
		{"two of lab1", exportPath + "?containers=" + id1 + "@lab1," + id2 + "@lab1", http.StatusNoContent, "lab1 containers=" + id1 + "%2C" + id2},
		{"the default engine's", exportPath + "?containers=" + id1 + "," + id2, http.StatusNoContent, "local containers=" + id1 + "%2C" + id2},
		{"a project on lab2", exportPath + "?project=shop&engine=lab2", http.StatusNoContent, "lab2 project=shop"},
		{"lab1 and lab2", exportPath + "?containers=" + id1 + "@lab1," + id2 + "@lab2", http.StatusBadRequest, ""},
		{"lab1 and the default engine", exportPath + "?containers=" + id1 + "@lab1," + id2 + "&engine=local", http.StatusBadRequest, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			var got []seen
			others := map[string]http.Handler{"local": recorder(&got, "local"), "lab1": recorder(&got, "lab1"), "lab2": recorder(&got, "lab2")}
			e := echo.New()
			e.Use(dispatch(others, stubLive{}))
			e.Any("/*", func(c echo.Context) error { return c.NoContent(http.StatusTeapot) })
			rec := httptest.NewRecorder()
			e.ServeHTTP(rec, httptest.NewRequest("GET", c.target, nil))
			if rec.Code != c.status {
				t.Fatalf("status %d (%s), want %d", rec.Code, rec.Body, c.status)
			}
			if c.want == "" {
				if len(got) != 0 {
					t.Errorf("an engine got %+v", got)
				}
				return
			}
			if len(got) != 1 || got[0].path[:len(got[0].path)-len(exportPath)-1]+" "+got[0].query != c.want {
				t.Errorf("engines got %+v, want %q", got, c.want)
			}
		})
	}
}
