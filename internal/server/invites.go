package server

import (
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"time"

	"github.com/labstack/echo/v4"
	qrcode "github.com/skip2/go-qrcode"

	"github.com/dockmap/dockmap/internal/auth"
	"github.com/dockmap/dockmap/internal/topology"
	"github.com/dockmap/dockmap/web/templates"
)

// msgInviteEnded is what /join says about an invite that does not work
// (ended, expired, never existed: a joiner can do nothing different).
const msgInviteEnded = "This invite has ended. Ask the instructor for a new one."

// qrSize is the QR code's side in pixels: the page scales it up for a
// projector without smoothing, so this only needs to be sharp enough for
// a screenshot.
const qrSize = 512

// InviteInfo is an open invite as GET /api/invites lists it.
type InviteInfo struct {
	ID      string    `json:"id"`
	Label   string    `json:"label"`
	Created time.Time `json:"created"`
	Expires time.Time `json:"expires"`
	// Joins is how many times the invite was opened.
	Joins int `json:"joins"`
}

// NewInvite is the answer to POST /api/invites: the join URL and its QR
// code, which only this answer ever holds.
type NewInvite struct {
	InviteInfo
	URL string `json:"url"`
	// QR is the join URL as a QR code, a PNG in a data: URL.
	QR string `json:"qr"`
}

// inviteRequest is the body of POST /api/invites (optional).
type inviteRequest struct {
	Label string `json:"label"`
}

func inviteInfo(inv auth.Invite) InviteInfo {
	return InviteInfo{ID: inv.ID, Label: inv.Label, Created: inv.Created.UTC(), Expires: inv.Expires.UTC(), Joins: inv.Joins}
}

// noAccessControl is the answer to invite routes when there is nobody to
// invite: every local caller is an operator already.
var noAccessControl = echo.NewHTTPError(http.StatusConflict, "access control is off (a loopback address and no token): nobody needs an invite")

// handleMintInvite serves "POST /api/invites": an operator makes a viewer
// invite for a class. The answer carries the QR code as a data: URL rather
// than leaving it to a GET /api/invites/{id}/qr.png: a QR drawn later
// would need the code, and dockmap keeps only its hash (as for every
// credential), so the code exists in this answer and nowhere else. To show
// the QR again the instructor makes a new invite (and ends the old one).
// The URL uses the request's own Host, as login links do.
func handleMintInvite(a *auth.Auth, log *slog.Logger) echo.HandlerFunc {
	return func(c echo.Context) error {
		noStore(c)
		if a == nil {
			return noAccessControl
		}
		var req inviteRequest
		// The body is optional: `curl -X POST` makes an unlabelled invite.
		if c.Request().ContentLength != 0 {
			if err := decodeJSON(c, &req); err != nil {
				return err
			}
		}
		inv, err := a.NewInvite(req.Label)
		switch {
		case errors.Is(err, auth.ErrBadLabel):
			return fmt.Errorf("%w: %v", topology.ErrInvalid, err)
		case errors.Is(err, auth.ErrTooManyInvites):
			return fmt.Errorf("%w: %v", topology.ErrConflict, err)
		case err != nil:
			return err
		}
		u := joinURL(c, inv.Code)
		png, err := qrcode.Encode(u, qrcode.Medium, qrSize)
		if err != nil {
			// Nobody can use an invite without its QR or URL in hand.
			_ = a.EndInvite(inv.ID)
			return fmt.Errorf("draw the invite's QR code: %w", err)
		}
		log.Info("invite made", "invite", inv.ID, "label", inv.Label, "remote", c.RealIP(), "expires", inv.Expires)
		return c.JSON(http.StatusCreated, NewInvite{InviteInfo: inviteInfo(inv), URL: u,
			QR: "data:image/png;base64," + base64.StdEncoding.EncodeToString(png)})
	}
}

// joinURL is the link an invite's QR code holds. The code goes in the
// query, as for login links: the request log leaves queries out.
func joinURL(c echo.Context, code string) string {
	scheme := "http"
	if c.Request().TLS != nil {
		scheme = "https"
	}
	u := url.URL{Scheme: scheme, Host: c.Request().Host, Path: "/join", RawQuery: url.Values{"code": {code}}.Encode()}
	return u.String()
}

// handleInvites serves "GET /api/invites": the open invites, oldest first,
// without their codes.
func handleInvites(a *auth.Auth) echo.HandlerFunc {
	return func(c echo.Context) error {
		noStore(c)
		out := []InviteInfo{}
		if a != nil {
			for _, inv := range a.Invites() {
				out = append(out, inviteInfo(inv))
			}
		}
		return c.JSON(http.StatusOK, map[string]any{"invites": out})
	}
}

// handleEndInvite serves "DELETE /api/invites/:id": the invite's link
// stops working and every browser that joined with it is signed out, its
// live connection closed (204; 404 for an invite not open).
func handleEndInvite(a *auth.Auth, log *slog.Logger) echo.HandlerFunc {
	return func(c echo.Context) error {
		if a == nil {
			return noAccessControl
		}
		id := c.Param("id")
		if err := a.EndInvite(id); err != nil {
			return fmt.Errorf("%w: %v", topology.ErrNotFound, err)
		}
		log.Info("invite ended", "invite", id, "remote", c.RealIP())
		return c.NoContent(http.StatusNoContent)
	}
}

// handleJoin serves "GET /join?code=": an invite's code becomes a viewer
// session cookie and a redirect to the map, as many times as it is opened
// while the invite lasts. An invite that does not work gets 401 and a
// page saying so; wrong codes count against the brake like wrong tokens.
func handleJoin(a *auth.Auth, log *slog.Logger) echo.HandlerFunc {
	return func(c echo.Context) error {
		noStore(c)
		if a == nil {
			return c.Redirect(http.StatusSeeOther, "/")
		}
		session, err := a.RedeemInvite(c.QueryParam("code"), c.RealIP())
		switch {
		case errors.Is(err, auth.ErrLimited):
			log.Debug("join braked: too many wrong credentials", "remote", c.RealIP())
			setRetryAfter(c, a)
			return render(c, http.StatusTooManyRequests, templates.JoinPage(msgBraked))
		case err != nil:
			log.Warn("join refused: the invite does not work", "remote", c.RealIP())
			return render(c, http.StatusUnauthorized, templates.JoinPage(msgInviteEnded))
		}
		log.Info("login", "role", auth.Viewer.String(), "remote", c.RealIP(), "with", "invite")
		setSession(c, session)
		return c.Redirect(http.StatusSeeOther, "/")
	}
}
