def test_home_page_for_visitors_links_to_register_and_login(client):
    response = client.get("/")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert 'href="/register"' in html
    assert 'href="/login"' in html
