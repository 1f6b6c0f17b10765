from django.urls import path

from market import views

urlpatterns = [
    path("", views.stock_list, name="stock_list"),
    path("<str:code>/", views.stock_detail, name="stock_detail"),
]
