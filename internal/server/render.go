package server

import (
	"github.com/a-h/templ"
	"github.com/labstack/echo/v4"
)

// render buffers a component before writing it, so that a render error
// reaches the error handler instead of half a page reaching the browser.
func render(c echo.Context, status int, cmp templ.Component) error {
	buf := templ.GetBuffer()
	defer templ.ReleaseBuffer(buf)
	if err := cmp.Render(c.Request().Context(), buf); err != nil {
		return err
	}
	return c.HTMLBlob(status, buf.Bytes())
}
