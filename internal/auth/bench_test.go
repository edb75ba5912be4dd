package auth

import (
	"net/http/httptest"
	"testing"
)

// What access control adds to every request: one cookie check, or one
// Bearer check (a SHA-256 of the token).
func BenchmarkRequest(b *testing.B) {
	a, err := New(Tokens{Operator: NewToken(), Viewer: NewToken()})
	if err != nil {
		b.Fatal(err)
	}
	cookie := httptest.NewRequest("GET", "/api/graph", nil)
	cookie.Header.Set("Cookie", CookieName+"="+a.Session(Viewer))
	bearer := httptest.NewRequest("GET", "/api/graph", nil)
	op := NewToken()
	a2, _ := New(Tokens{Operator: op})
	bearer.Header.Set("Authorization", "Bearer "+op)
	b.Run("cookie", func(b *testing.B) {
		for b.Loop() {
			if r, _ := a.Request(cookie, "192.0.2.1"); r != Viewer {
				b.Fatal(r)
			}
		}
	})
	b.Run("bearer", func(b *testing.B) {
		for b.Loop() {
			if r, _ := a2.Request(bearer, "192.0.2.1"); r != Operator {
				b.Fatal(r)
			}
		}
	})
}
