package web_test

import (
	"testing"

	"github.com/chromedp/chromedp"
)

// TestE2ESettingsSectionNavOnAPhone: on a phone-sized screen the settings
// page's section navigation stays on screen as one scrollable row, and
// tapping "Email" brings the #email section into view.
func TestE2ESettingsSectionNavOnAPhone(t *testing.T) {
	d := startDashboard(t, dashOptions{})
	ctx := newChrome(t)
	step(t, ctx, "phone screen and sign in",
		chromedp.EmulateViewport(390, 844),
		chromedp.Navigate(d.url+"/dashboard/settings"),
		chromedp.WaitVisible(css("#login-form")),
		chromedp.SendKeys(css("#email"), adminEmail),
		chromedp.SendKeys(css("#password"), adminPassword),
		chromedp.Click(css(`#login-form button[type="submit"]`)),
		chromedp.WaitVisible(css("#settings-nav")),
	)
	// The navigation fits the screen's width (it scrolls inside itself).
	if w := read(t, ctx, "nav width", chromedp.Evaluate[float64](`document.getElementById("settings-nav").getBoundingClientRect().width`)); w > 390 {
		t.Errorf("section navigation is %.0f px wide on a 390 px screen", w)
	}
	step(t, ctx, "tap Email",
		chromedp.Click(css(`#settings-nav a[href="#email"]`)),
		chromedp.Poll[chromedp.Void](`(() => { const r = document.getElementById("email").getBoundingClientRect(); return r.top >= 0 && r.top < 300 })()`),
		// The navigation is still on screen after the jump (sticky).
		chromedp.Poll[chromedp.Void](`(() => { const r = document.getElementById("settings-nav").getBoundingClientRect(); return r.top >= 0 && r.bottom <= 844 })()`),
	)
}
