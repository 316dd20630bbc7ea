from django.urls import path

from chargers import views

urlpatterns = [
    path("id-tokens/", views.id_token_list, name="id_token_list"),
    path("id-tokens/new/", views.id_token_edit, name="id_token_create"),
    path("id-tokens/<int:pk>/", views.id_token_edit, name="id_token_edit"),
]
