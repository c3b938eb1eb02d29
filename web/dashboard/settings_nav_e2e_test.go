package dashboard_test

import (
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/inlet-dev/inlet/web/webtest"
)

// TestE2ESettingsSectionNavOnAPhone: on a phone-sized screen the settings
// page's section navigation stays on screen as one scrollable row, and
// tapping "Email" brings the #email section into view.
func TestE2ESettingsSectionNavOnAPhone(t *testing.T) {
	t.Parallel()
	d := webtest.StartDashboard(t, webtest.DashOptions{})
	ctx := webtest.Chrome(t)
	webtest.Step(t, ctx, "phone screen and sign in",
		chromedp.EmulateViewport(390, 844),
		chromedp.Navigate(d.URL+"/dashboard/settings"),
		chromedp.WaitVisible(webtest.CSS("#login-form")),
		chromedp.SendKeys(webtest.CSS("#email"), webtest.AdminEmail),
		chromedp.SendKeys(webtest.CSS("#password"), webtest.AdminPassword),
		chromedp.Click(webtest.CSS(`#login-form button[type="submit"]`)),
		chromedp.WaitVisible(webtest.CSS("#settings-nav")),
	)
	// The navigation fits the screen's width (it scrolls inside itself).
	if w := webtest.Read(t, ctx, "nav width", chromedp.Evaluate[float64](`document.getElementById("settings-nav").getBoundingClientRect().width`)); w > 390 {
		t.Errorf("section navigation is %.0f px wide on a 390 px screen", w)
	}
	webtest.Step(t, ctx, "tap Email",
		chromedp.Click(webtest.CSS(`#settings-nav a[href="#email"]`)),
		chromedp.Poll[chromedp.Void](`(() => { const r = document.getElementById("email").getBoundingClientRect(); return r.top >= 0 && r.top < 300 })()`),
		// The navigation is still on screen after the jump (sticky).
		chromedp.Poll[chromedp.Void](`(() => { const r = document.getElementById("settings-nav").getBoundingClientRect(); return r.top >= 0 && r.bottom <= 844 })()`),
	)
}
