from gansunews.spiders.portal import InOrder


def test_in_order_holds_early_finishers():
    order = InOrder()
    for key in "abcd":
        order.register(key)
    assert order.finish("c", "C") == []
    assert order.finish("a", "A") == ["A"]
    assert order.finish("b", None) == ["C"]  # b produced nothing; c was waiting behind it
    assert order.holding is False
    assert order.finish("d", "D") == ["D"]


def test_in_order_drain_releases_what_is_stuck():
    order = InOrder()
    for key in "xyz":
        order.register(key)
    order.finish("z", "Z")
    assert order.holding and order.drain() == ["Z"] and not order.holding
