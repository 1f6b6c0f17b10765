from django.urls import path

from market.api import StatusApi, StockBarsApi, StockDetailApi, StockListApi

urlpatterns = [
    path("status", StatusApi.as_view(), name="market_status"),
    path("stocks/", StockListApi.as_view(), name="stock_list"),
    path("stocks/<str:code>/", StockDetailApi.as_view(), name="stock_detail"),
    path("stocks/<str:code>/bars/", StockBarsApi.as_view(), name="stock_bars"),
]
