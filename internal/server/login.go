package server

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/dockmap/dockmap/internal/auth"
	"github.com/dockmap/dockmap/internal/topology"
	"github.com/dockmap/dockmap/web/templates"
)

// Login pages say these in plain words.
const (
	msgCodeGone = "This login link was already used or has expired: ask for a new one or paste the token."
	msgNoTokens = "Tokens are not accepted in links: a link stays in the browser's history. Paste the token here instead."
	msgBraked   = "Too many wrong tokens or login links from this address: wait a few seconds and try again."
)

// sessionLifetime is how long a session cookie lasts: a workshop day, not
// forever.
const sessionLifetime = 7 * 24 * time.Hour

// noStore keeps an answer that carries or sets a credential out of every
// cache, the browser's back-forward cache included.
func noStore(c echo.Context) { c.Response().Header().Set("Cache-Control", "no-store") }

// handleLoginPage serves "GET /login". With ?code= it swaps a login code
// for the session cookie and redirects to "/" (the code leaves the address
// bar, and is used up anyway); otherwise it shows the form. A token in the
// query is not even looked at: links are where secrets linger (history,
// autocomplete, chats), so the page asks for it to be pasted instead. With
// access control off there is nothing to log in to.
func handleLoginPage(a *auth.Auth, log *slog.Logger) echo.HandlerFunc {
	return func(c echo.Context) error {
		noStore(c)
		if a == nil {
			return c.Redirect(http.StatusSeeOther, "/")
		}
		q := c.Request().URL.Query()
		switch {
		case q.Has("code"):
			role, err := a.RedeemCode(q.Get("code"), c.RealIP())
			return signIn(c, a, log, role, err, "login link", msgCodeGone)
		case q.Has("token"):
			return render(c, http.StatusOK, templates.LoginPage(msgNoTokens))
		}
		return render(c, http.StatusOK, templates.LoginPage(""))
	}
}

// handleLoginForm serves "POST /login" from the login page's form, so a
// pasted token never appears in a URL at all.
func handleLoginForm(a *auth.Auth, log *slog.Logger) echo.HandlerFunc {
	return func(c echo.Context) error {
		noStore(c)
		if a == nil {
			return c.Redirect(http.StatusSeeOther, "/")
		}
		token := c.FormValue("token")
		if token == "" {
			// An empty form is a slip, not a guess: it costs no attempt.
			return render(c, http.StatusBadRequest, templates.LoginPage("Paste the token first."))
		}
		role, err := a.Login(token, c.RealIP())
		return signIn(c, a, log, role, err, "token", "That token is not valid for this dockmap. Check what it printed at start.")
	}
}

// signIn ends a login with the credential's role: the session cookie and a
// redirect to the map, or the login page saying why not. Sign-ins and
// refusals within the brake's budget are logged with the client's address
// and the role, never the credential.
func signIn(c echo.Context, a *auth.Auth, log *slog.Logger, role auth.Role, err error, what, wrong string) error {
	if errors.Is(err, auth.ErrLimited) {
		// Past the budget refusals are not logged one by one: keeping a
		// guessing script's noise out of the log is what the brake is for.
		log.Debug("login braked: too many wrong credentials", "remote", c.RealIP())
		setRetryAfter(c, a)
		return render(c, http.StatusTooManyRequests, templates.LoginPage(msgBraked))
	}
	if role == auth.Anonymous {
		log.Warn("login refused: wrong "+what, "remote", c.RealIP())
		return render(c, http.StatusUnauthorized, templates.LoginPage(wrong))
	}
	log.Info("login", "role", role.String(), "remote", c.RealIP(), "with", what)
	setSession(c, a.Session(role))
	return c.Redirect(http.StatusSeeOther, "/")
}

// setSession sets the session cookie to value.
func setSession(c echo.Context, value string) {
	c.SetCookie(&http.Cookie{
		Name: auth.CookieName, Value: value, Path: "/",
		HttpOnly: true, SameSite: http.SameSiteStrictMode, Secure: c.Request().TLS != nil,
		MaxAge: int(sessionLifetime / time.Second),
	})
}

// handleLogout serves "POST /logout": the cookie is cleared.
func handleLogout() echo.HandlerFunc {
	return func(c echo.Context) error {
		noStore(c)
		c.SetCookie(&http.Cookie{Name: auth.CookieName, Value: "", Path: "/", MaxAge: -1,
			HttpOnly: true, SameSite: http.SameSiteStrictMode, Secure: c.Request().TLS != nil})
		return c.Redirect(http.StatusSeeOther, "/login")
	}
}

// loginCodeRequest is the body of POST /api/login-codes.
type loginCodeRequest struct {
	Role string `json:"role"`
}

// LoginCode is the answer to POST /api/login-codes: a one-use login link.
type LoginCode struct {
	Code    string    `json:"code"`
	URL     string    `json:"url"`
	Role    string    `json:"role"`
	Expires time.Time `json:"expires"`
}

// handleMintLoginCode serves "POST /api/login-codes": an operator makes a
// one-use login link for a viewer or another operator. The link uses the
// request's own Host (already on the allowlist), so it opens the dockmap
// the operator is looking at; the code is in the answer only, never in a
// log or the audit trail.
func handleMintLoginCode(a *auth.Auth, log *slog.Logger) echo.HandlerFunc {
	return func(c echo.Context) error {
		noStore(c)
		if a == nil {
			return echo.NewHTTPError(http.StatusConflict, "access control is off (a loopback address and no token): nobody needs a login link")
		}
		var req loginCodeRequest
		if err := decodeJSON(c, &req); err != nil {
			return err
		}
		var role auth.Role
		switch req.Role {
		case "viewer":
			role = auth.Viewer
		case "operator":
			role = auth.Operator
		default:
			return fmt.Errorf("%w: role must be viewer or operator", topology.ErrInvalid)
		}
		code, err := a.NewCode(role)
		switch {
		case errors.Is(err, auth.ErrTooManyCodes):
			return echo.NewHTTPError(http.StatusTooManyRequests, err.Error())
		case errors.Is(err, auth.ErrNoRole):
			return fmt.Errorf("%w: this dockmap has no %s token", topology.ErrInvalid, req.Role)
		case err != nil:
			return err
		}
		scheme := "http"
		if c.Request().TLS != nil {
			scheme = "https"
		}
		u := url.URL{Scheme: scheme, Host: c.Request().Host, Path: "/login", RawQuery: url.Values{"code": {code.Code}}.Encode()}
		log.Info("login link made", "role", req.Role, "remote", c.RealIP(), "expires", code.Expires)
		return c.JSON(http.StatusCreated, LoginCode{Code: code.Code, URL: u.String(), Role: req.Role, Expires: code.Expires.UTC()})
	}
}
