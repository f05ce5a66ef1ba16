// The scale-out of model training: job arrays over a shared model store.
