package server

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/gorilla/websocket"
	"github.com/labstack/echo/v4"
)

// A shell of another engine's container goes to that engine's server,
// which has its client, and a shell of the default engine's to the
// default one's; the WebSocket's hijack goes through the dispatch.
func TestShellIsDispatched(t *testing.T) {
	const id = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	got := map[string]string{}
	engine := func(name string) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			got[name] = r.URL.Path
			conn, err := shellUpgrader.Upgrade(w, r, nil)
			if err != nil {
				return
			}
			defer conn.Close()
			typ, data, err := conn.ReadMessage()
			if err == nil {
				_ = conn.WriteMessage(typ, append([]byte(name+":"), data...))
			}
		})
	}
	e := echo.New()
	e.Use(dispatch(map[string]http.Handler{"local": engine("local"), "lab1": engine("lab1")}, stubLive{}))
	e.Any("/*", func(c echo.Context) error { return c.NoContent(http.StatusTeapot) })
	srv := httptest.NewServer(e)
	defer srv.Close()

	for _, tc := range []struct{ ref, engine, path string }{
		{id + "@lab1", "lab1", "/api/containers/" + id + "/shell"},
		{id, "local", "/api/containers/" + id + "/shell"},
	} {
		conn, _, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(srv.URL, "http")+"/api/containers/"+tc.ref+"/shell", nil)
		if err != nil {
			t.Fatalf("dial the shell of %s: %v", tc.ref, err)
		}
		if err := conn.WriteMessage(websocket.BinaryMessage, []byte("k")); err != nil {
			t.Fatal(err)
		}
		_, data, err := conn.ReadMessage()
		conn.Close()
		if err != nil || string(data) != tc.engine+":k" {
			t.Errorf("%s: echo %q (%v), want %q", tc.ref, data, err, tc.engine+":k")
		}
		if got[tc.engine] != tc.path {
			t.Errorf("%s reached %s with %q, want %q", tc.ref, tc.engine, got[tc.engine], tc.path)
		}
	}
}
