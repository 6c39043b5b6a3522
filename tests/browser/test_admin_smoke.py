"""The admin in a real browser: an operator logs in through the login form and sees the admin
as it is served (styles, the simulated-market banner, the parameter versions); an anonymous
visitor is sent to the login page."""

from playwright.sync_api import expect


def test_operator_logs_in_and_sees_the_admin(page, live_server, admin_login, django_user_model):
    django_user_model.objects.create_superuser("operator", "operator@example.com", "a-long-Passw0rd")

    admin_login(page, live_server, "operator", "a-long-Passw0rd")

    assert page.url == f"{live_server.url}/admin/"
    expect(page).to_have_title("Operations | Guard control plane")
    expect(page.locator("#site-name")).to_have_text("Guard control plane")
    expect(page.locator("#market-data-mode")).to_have_text("simulated market data")
    expect(page.locator("#market-data-mode")).to_have_class("market-data-simulated")
    versions = page.get_by_role("link", name="Parameter versions", exact=True)
    expect(versions).to_have_attribute("href", "/admin/guards/parameterversion/")
    # The admin's stylesheets are served (the live server's static files handler): the header is
    # laid out by admin/css/base.css, not a page of bare links.
    stylesheet = page.request.get(f"{live_server.url}/static/admin/css/base.css")
    assert stylesheet.ok and "text/css" in stylesheet.headers["content-type"]
    assert page.locator("#header").evaluate("e => getComputedStyle(e).display") == "flex"

    versions.click()
    expect(page.locator("#content h1")).to_have_text("Select parameter version to change")
    # The seeded version 1 of each tunable is there: the test started from the migrated data.
    expect(page.locator("#result_list tbody tr").first).to_be_visible()


def test_anonymous_visitor_is_sent_to_the_login_page(page, live_server):
    page.goto(f"{live_server.url}/admin/guards/parameterversion/")

    assert page.url == f"{live_server.url}/admin/login/?next=/admin/guards/parameterversion/"
    expect(page.locator("#login-form")).to_be_visible()
    expect(page.locator("#market-data-mode")).to_have_text("simulated market data")
