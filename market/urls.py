from django.urls import path

from market import views

urlpatterns = [
    path("", views.stock_list, name="stock_list"),
    path("suggest/", views.stock_suggest, name="stock_suggest"),
    path("<str:code>/", views.stock_detail, name="stock_detail"),
]
